"""The one gate in front of every admin route (`/__specmock/*`), and its settings.

The admin API can wipe or read every item, so it must be reachable only by whom
the operator meant, and never by a web page the operator happens to visit:

- Host: when `allowed_hosts` is set (always, under `specmock serve`), a request
  whose Host header names anything else is refused (403). A page that rebinds its
  own DNS name to 127.0.0.1 still sends its own name as Host, so it cannot reach
  the admin API however the name resolves.
- Token: with a token, every call carries `Authorization: Bearer <token>`, which
  no cross-site form or simple request can send. There is no cookie: browsers send
  a host's cookies to every port of it, so a page served by any other program on
  the same host would receive it. The dashboard keeps the token in its own tab
  (sessionStorage, which is per origin: scheme, host and port) and sends the header;
  its event stream, which a browser cannot put a header on, passes it as `?token=`
  on a same-origin request. Without a token, the admin API is on only when the
  server listens on loopback.
- Writes: POST, PUT and PATCH need a JSON body type (`application/json`; a
  scenario upload may also be YAML), so an HTML form or a CORS "simple request"
  (text/plain, form encodings, no type at all) cannot change anything (415).
  DELETE cannot be sent cross-site without a CORS preflight, which the admin API
  does not grant unless `--admin-cors-origin` names an origin.
- Size: admin bodies are read up to `max_body` bytes (413 beyond), never whole.

Everything here is decided from the request head alone, before a body is read,
so other admin front-ends (the dashboard) reuse `admin_refusal` as they are.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from .._encoding import encode

#: Admin request bodies larger than this are refused with 413 (a scenario or a state import).
DEFAULT_ADMIN_MAX_BODY: Final = 10 * 1024 * 1024
#: Host names that always mean this machine.
LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})
#: Media types an admin write may carry; `scenario` uploads may also be YAML.
JSON_TYPES: Final = frozenset({"application/json"})
YAML_TYPES: Final = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


@dataclass
class AdminSettings:
    """Who may use the admin API and how.

    `open`: usable without a token (the server is on loopback, or in-process).
    `token`: if set, every admin call needs `Authorization: Bearer <token>`.
    `allowed_hosts`: Host header values accepted (lower case, no port); None accepts any
    (in-process, where no browser can reach the app).
    `cors_origins`: browser origins the admin API answers cross-origin (none by default).
    `max_body`: largest admin request body, in bytes.
    `scenario_dirs`: folders whose files `PUT /__specmock/scenario {"use": ...}` may read.
    """

    open: bool = True
    token: str | None = None
    allowed_hosts: frozenset[str] | None = None
    cors_origins: tuple[str, ...] = ()
    max_body: int = DEFAULT_ADMIN_MAX_BODY
    scenario_dirs: tuple[Path, ...] = field(default_factory=tuple)


def served_hosts(bound: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The Host names a server bound to `bound` accepts on its admin API."""
    names = {normalise_host(bound), *LOCAL_HOSTS, *(normalise_host(h) for h in extra)}
    names.discard("")
    return frozenset(names)


def normalise_host(value: str) -> str:
    """`Host` header value -> bare lower-case host: port and IPv6 brackets dropped."""
    host = value.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else ""
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def presented_token(request: Request) -> str | None:
    """The admin token this request carries: `Authorization: Bearer <token>`."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def token_matches(token: str | None, given: str | None) -> bool:
    """Whether `given` (as a header or cookie carried it) is the admin `token`, in constant time."""
    if not token or given is None:
        return False
    # Bytes: compare_digest refuses str holding non-ASCII. Headers arrive decoded as Latin-1,
    # so encoding back gives the bytes sent; a UTF-8 token sent as UTF-8 then matches.
    return hmac.compare_digest(given.encode("latin-1", "replace"), token.encode("utf-8", "surrogateescape"))


def admin_json(content: object, status: int, headers: dict[str, str] | None = None) -> Response:
    """An admin answer: JSON through specmock's encoder."""
    return Response(encode(content), status_code=status, headers=headers, media_type="application/json")


def admin_refusal(
    settings: AdminSettings,
    request: Request,
    *,
    write_types: frozenset[str] = JSON_TYPES,
    public: bool = False,
    presented: str | None = None,
) -> Response | None:
    """Why this admin request is refused, or None if it may go on.

    `presented`: a token given some other way (the dashboard's `?token=`), checked instead.

    `public` routes (health, the admin OpenAPI document) skip the Host and token checks:
    they reveal nothing and container probes call them by whatever name routes to them.
    `write_types`: the media types this route accepts on POST/PUT/PATCH.
    """
    if public:
        return None
    refused = host_refusal(settings, request)
    if refused is not None:
        return refused
    token = settings.token
    if token:
        if not token_matches(token, presented if presented is not None else presented_token(request)):
            return admin_json(
                {"error": "the admin API needs Authorization: Bearer <admin token>"},
                401,
                {"WWW-Authenticate": 'Bearer realm="specmock-admin"'},
            )
    elif not settings.open:
        return admin_json(
            {"error": "the admin API is off: the server is not on loopback; start it with --admin-token"}, 403
        )
    if request.method in WRITE_METHODS:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in write_types:
            wanted = " or ".join(sorted(write_types))
            return admin_json({"error": f"admin writes need Content-Type: {wanted} (got {media or 'none'})"}, 415)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_body:
        return too_large(settings.max_body)
    return None


def host_refusal(settings: AdminSettings, request: Request) -> Response | None:
    """403 when the Host header names anything but this server (a DNS-rebinding page), else None."""
    allowed = settings.allowed_hosts
    if allowed is not None and normalise_host(request.headers.get("host", "")) not in allowed:
        return admin_json(
            {"error": "the admin API answers only to this server's own host names (see --allowed-host)"}, 403
        )
    return None


def too_large(limit: int) -> Response:
    """413 for an admin body over `limit` bytes."""
    return admin_json({"error": f"the admin request body is over the limit of {limit} bytes"}, 413)
