"""Authentication from each spec's security schemes.

By default any non-empty credential in the declared scheme is accepted, which
is what a client needs to exercise its happy path; missing, empty or
wrong-scheme credentials are refused with 401 in the family's error format.
Which tokens exist, are revoked or lack a scope is a scenario's business: its
`AuthPolicy` checks the extracted credential afterwards (scenario/tokens.py).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .._errors import Problem


class Credential(NamedTuple):
    """What the client presented: which scheme, and the token (or user name). (A named tuple:
    one is made per authenticated request, at a third of a frozen dataclass's cost.)"""

    scheme: str
    token: str


@dataclass(frozen=True)
class SecurityScheme:
    """One `components.securitySchemes` entry, compiled."""

    name: str
    kind: str  # "http" or "apiKey"
    http_scheme: str = ""  # lower-case: bearer, basic, token, ...
    location: str = "header"
    param: str = "Authorization"

    @classmethod
    def from_spec(cls, name: str, raw: dict[str, Any]) -> SecurityScheme:
        kind = raw.get("type", "")
        if kind == "http":
            return cls(name, "http", http_scheme=str(raw.get("scheme", "")).lower())
        if kind == "apiKey":
            return cls(name, "apiKey", location=raw.get("in", "header"), param=raw.get("name", ""))
        # oauth2 / openIdConnect clients send bearer tokens.
        return cls(name, "http", http_scheme="bearer")

    @property
    def challenge(self) -> str | None:
        """The WWW-Authenticate value that names this scheme."""
        if self.kind != "http":
            return None
        return self.http_scheme.capitalize() if self.http_scheme != "bearer" else "Bearer"

    def extract(
        self, headers: Mapping[str, str], query: Mapping[str, str], cookies: Mapping[str, str]
    ) -> Credential | bool | None:
        """The credential for this scheme; None if absent; False if present but malformed."""
        if self.kind == "apiKey":
            source = {"header": headers, "query": query, "cookie": cookies}.get(self.location, {})
            key = self.param.lower() if self.location == "header" else self.param
            value = source.get(key)
            if value is None:
                return None
            return Credential(self.name, value.strip()) if value.strip() else False
        raw = headers.get("authorization")
        if raw is None:
            return None
        scheme, _, rest = raw.strip().partition(" ")
        if scheme.lower() != self.http_scheme:
            return None
        token = rest.strip()
        if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
            token = token[1:-1].strip()
        if not token:
            return False
        if self.http_scheme == "basic":
            return _basic_user(self.name, token)
        return Credential(self.name, token)


def _basic_user(scheme: str, token: str) -> Credential | bool:
    try:  # ValueError too: a header decoded as latin-1 may hold non-ASCII, which b64decode refuses
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    user, sep, password = decoded.partition(":")
    if not sep or not user or not password:
        return False
    return Credential(scheme, user)


@dataclass(frozen=True)
class Authenticator:
    """An operation's security requirements: any one alternative must be met."""

    alternatives: tuple[tuple[SecurityScheme, ...], ...] = ()

    def authenticate(
        self,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        cookies: Mapping[str, str],
        wording: Callable[[str], str],
    ) -> Credential | None:
        """The presented credential, or raise a 401 Problem worded by `wording` (the family's
        message for ``missing_credentials`` or ``invalid_credentials``: asked only on a refusal)."""
        if not self.alternatives:
            return None
        malformed = False
        for alternative in self.alternatives:
            found: Credential | None = None
            for scheme in alternative:
                result = scheme.extract(headers, query, cookies)
                if result is False:
                    malformed = True
                    found = None
                    break
                if result is None or result is True:
                    found = None
                    break
                found = result
            if found is not None:
                return found
        headers_out = {}
        challenge = self.alternatives[0][0].challenge
        if challenge:
            headers_out["WWW-Authenticate"] = challenge
        # Credentials in another scheme count as none, as Django REST Framework treats them.
        if malformed:
            raise Problem(401, wording("invalid_credentials"), kind="invalid_credentials", headers=headers_out)
        raise Problem(401, wording("missing_credentials"), kind="missing_credentials", headers=headers_out)
