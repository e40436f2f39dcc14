"""Run a documented code sample with the client library its language stands for.

Each sample of a seed document is one HTTP call; these helpers make that call
over a real socket with a real client, the way the sample's language would:

- ``python``: the Python (requests) samples, `requests.<method>(url, headers=..., json=..., params=...)`;
- ``curl``: the cURL samples, sent with httpx: `-d '<json>'` sends the JSON text as written;
- ``js``: the JavaScript fetch samples, sent with urllib: `body: JSON.stringify(payload)`;
- ``http``: raw HTTP messages (SD Elements documents its calls this way), sent with
  http.client: the request line, exactly the documented headers, and the body.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests


@dataclass(frozen=True)
class Sample:
    """One documented call and the success response the document promises for it.

    `expect` is the documented response body, minus what a fresh mock cannot know
    (timestamps); values may be compiled regexes. Dicts match when every expected
    key matches (extra keys are allowed); lists match item by item and must have
    the same length. `absent` names dotted paths that must not be in the response.
    Strings in `path` and `body` may name values saved from earlier responses as
    ``{name}``; `save` maps such a name to a field of this response.
    """

    operation: str
    languages: tuple[str, ...]
    via: str
    method: str
    path: str
    headers: Mapping[str, str]
    status: int
    body: Any = None
    query: Mapping[str, str] = field(default_factory=dict)
    expect: Any = None
    absent: tuple[str, ...] = ()
    save: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: Any


def _parse(status: int, content_type: str | None, content: bytes) -> Answer:
    return Answer(status, content_type or "", json.loads(content) if content else None)


def _with_query(url: str, query: Mapping[str, str]) -> str:
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


def via_requests(url: str, method: str, headers: Mapping[str, str], body: Any, query: Mapping[str, str]) -> Answer:
    """The Python samples: `requests.post(url, headers=headers, json=payload)`."""
    kwargs: dict[str, Any] = {"headers": dict(headers), "params": dict(query) or None, "timeout": 10}
    if body is not None:
        kwargs["json"] = body
    response = requests.request(method, url, **kwargs)
    return _parse(response.status_code, response.headers.get("content-type"), response.content)


def via_httpx(url: str, method: str, headers: Mapping[str, str], body: Any, query: Mapping[str, str]) -> Answer:
    """The cURL samples: `curl -X POST URL -H ... -d '{ ... }'`, the JSON text sent as written."""
    content = json.dumps(body, indent=2).encode() if body is not None else None
    response = httpx.request(method, _with_query(url, query), headers=dict(headers), content=content, timeout=10)
    return _parse(response.status_code, response.headers.get("content-type"), response.content)


def via_urllib(url: str, method: str, headers: Mapping[str, str], body: Any, query: Mapping[str, str]) -> Answer:
    """The JavaScript samples: `fetch(url, {method, headers, body: JSON.stringify(payload)})`."""
    data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
    request = urllib.request.Request(_with_query(url, query), data=data, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return _parse(response.status, response.headers.get("content-type"), response.read())
    except urllib.error.HTTPError as error:
        return _parse(error.code, error.headers.get("content-type"), error.read())


def via_http_client(url: str, method: str, headers: Mapping[str, str], body: Any, query: Mapping[str, str]) -> Answer:
    """A raw HTTP message: the documented request line, headers and body, nothing more."""
    parts = urllib.parse.urlsplit(_with_query(url, query))
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        payload = json.dumps(body, indent=4).encode() if body is not None else None
        connection.request(method, target, body=payload, headers=dict(headers))
        response = connection.getresponse()
        return _parse(response.status, response.getheader("content-type"), response.read())
    finally:
        connection.close()


CLIENTS: dict[str, Callable[[str, str, Mapping[str, str], Any, Mapping[str, str]], Answer]] = {
    "python": via_requests,
    "curl": via_httpx,
    "js": via_urllib,
    "http": via_http_client,
}


def fill(value: Any, saved: Mapping[str, str]) -> Any:
    """`value` with every ``{name}`` replaced by the saved value of that name."""
    if isinstance(value, str):
        for name, saved_value in saved.items():
            value = value.replace("{" + name + "}", saved_value)
        return value
    if isinstance(value, dict):
        return {k: fill(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, saved) for v in value]
    return value


def mismatches(actual: Any, expected: Any, where: str = "") -> list[str]:
    """Where `actual` differs from `expected` (see Sample for the rules), as readable lines."""
    at = where or "<body>"
    if isinstance(expected, re.Pattern):
        if isinstance(actual, str) and expected.fullmatch(actual):
            return []
        return [f"{at}: {actual!r} does not match {expected.pattern!r}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{at}: expected an object, got {actual!r}"]
        out: list[str] = []
        for key, value in expected.items():
            path = f"{where}.{key}" if where else key
            if key not in actual:
                out.append(f"{path}: missing (expected {value!r})")
            else:
                out += mismatches(actual[key], value, path)
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{at}: expected {len(expected)} item(s), got {actual!r}"]
        return [
            line
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for line in mismatches(a, e, f"{where}[{i}]")
        ]
    if actual != expected or type(actual) is not type(expected):
        return [f"{at}: expected {expected!r}, got {actual!r}"]
    return []


def present(body: Any, dotted: str) -> bool:
    """Whether `body` has a value at ``a.b.c``."""
    node = body
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def run(sample: Sample, base_url: str, saved: dict[str, str]) -> Answer:
    """Send `sample` with its client, check the documented answer, remember what it saves."""
    url = base_url + fill(sample.path, saved)
    answer = CLIENTS[sample.via](url, sample.method, sample.headers, fill(sample.body, saved), sample.query)
    label = f"{sample.operation} ({sample.via}): {sample.method} {fill(sample.path, saved)}"
    assert answer.status == sample.status, f"{label} answered {answer.status}: {answer.body}"
    if sample.expect is None:
        assert answer.body is None, f"{label} should have no body, got {answer.body!r}"
    else:
        assert answer.content_type.startswith("application/json"), f"{label}: content type {answer.content_type!r}"
        problems = mismatches(answer.body, fill(sample.expect, saved))
        assert not problems, f"{label} differs from the document:\n" + "\n".join(problems)
    for dotted in sample.absent:
        assert not present(answer.body, dotted), f"{label} must not return {dotted}: {answer.body}"
    for name, response_field in sample.save.items():
        saved[name] = answer.body[response_field]
    return answer
