"""Hostile methods and paths against a real `specmock serve`: unknown methods are 405 with Allow;
mangled ids (encoded slashes, control characters, Unicode digits) miss in the family's format;
dot segments are not resolved into other routes. Never a 500, and never a change of state.

Requests go out byte for byte (http.client, or a raw socket) so no client normalises the path
or the body first.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from hostile_support import (
    FAMILIES,
    FAMILY_IDS,
    assert_family_error,
    auth,
    send,
    state,
)

# The fixtures, by the names the tests ask for: `server`, `targets`.
from hostile_support import default_server as default_server
from hostile_support import fresh_targets as fresh_targets

# -- methods ------------------------------------------------------------------------------

ODD_METHODS = ["PATCH", "DELETE", "POST", "PUT", "BREW", "PROPFIND", "TRACE"]


@pytest.mark.parametrize("method", ODD_METHODS)
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_an_unknown_method_is_405_with_allow(server, targets, family_name, method):
    family = FAMILIES[family_name]
    before = state(server)
    for path, allowed in [
        (family.collection, family.collection_allow),
        (family.item.format(id=targets[family_name]), family.item_allow),
    ]:
        if method in allowed:
            continue
        reply = send(server, method, path, auth(family), json.dumps(family.create).encode())
        assert_family_error(family, reply, 405)
        assert {m.strip() for m in reply.headers["allow"].split(",")} == allowed, (path, reply.headers)
    assert state(server) == before


# -- paths --------------------------------------------------------------------------------


def unicode_digits(real_id: str) -> str:
    """The id with its digits written as Arabic-Indic digits (which Python's int() accepts)."""
    return quote(real_id.translate({ord(d): 0x0660 + int(d) for d in "0123456789"}))


#: How an id is mangled; `{id}` is a real item's id. Each must miss: 404 (or 400 where ids have a pattern).
#: An id must name one item, spelled one way: " 3", "3\n", "+3", "0_3" or "٣" are not item 3.
MANGLED_IDS: dict[str, Any] = {
    "encoded slash after": "{id}%2Fx",
    "encoded slash before": "x%2F{id}",
    "lowercase encoded slash": "{id}%2fx",
    "encoded trailing slash": "{id}%2F",
    "encoded backslash": "{id}%5Cx",
    "encoded dot-dot": "%2E%2E%2F{id}",
    "dot-dot in the id": "..%2F{id}",
    "traversal to admin": "..%2F..%2F__specmock%2Fstate",
    "traversal to a file": "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "double-encoded slash": "{id}%252Fx",
    "NUL": "{id}%00",
    "newline": "{id}%0A",
    "newline inside": "a%0Ab",
    "carriage return": "{id}%0D",
    "CRLF": "{id}%0D%0A",
    "tab": "{id}%09",
    "invalid UTF-8": "{id}%FF%FE",
    "overlong UTF-8 slash": "{id}%C0%AF",
    "leading space": "%20{id}",
    "trailing space": "{id}%20",
    "plus sign": "%2B{id}",
    "digit separator": "0_{id}",
    "Unicode digits": unicode_digits,
    "very long": "x" * 4000,
}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("mangled", list(MANGLED_IDS))
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_mangled_ids_miss_in_the_family_format(server, targets, family_name, mangled, method):
    family = FAMILIES[family_name]
    mangle = MANGLED_IDS[mangled]
    raw_id = mangle(targets[family_name]) if callable(mangle) else mangle.format(id=targets[family_name])
    path = family.item.format(id=raw_id)
    before = state(server)
    body = json.dumps(family.update).encode() if method == "PUT" else None
    reply = send(server, method, path, auth(family), body)
    assert_family_error(family, reply, {400, 404})
    assert state(server) == before


LITERAL_TRAVERSALS = [
    "{item}/../../__specmock/state",
    "{item}/../{id2}",
    "{collection}/./{id}",
    "{collection}//{id}",
    "{collection}/%2E/{id}",
    "{collection}/../../../../etc/passwd",
]


@pytest.mark.parametrize("template", LITERAL_TRAVERSALS)
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_dot_segments_are_not_resolved_into_other_routes(server, targets, family_name, template):
    family = FAMILIES[family_name]
    item = family.item.format(id=targets[family_name]).rstrip("/")
    collection = family.item.split("{id}")[0].rstrip("/")
    path = template.format(item=item, id2="1", collection=collection, id=targets[family_name])
    before = state(server)
    for method in ("GET", "DELETE"):
        reply = send(server, method, path, auth(family))
        assert_family_error(family, reply, {400, 404})
        assert b'"store"' not in reply.body  # the admin API was not reached
    assert state(server) == before
