"""Filtering, sorting and paging of list operations, as each family does it.

Four paging styles cover our APIs: ``none`` (a bare array or an envelope),
``cursor`` (Versori: `first`, `after`, `before`, with `totalCount`, `next`,
`prev`), ``page`` (Django REST Framework: opt-in `page_size`, with `count`
and `next`/`previous` URLs) and ``offset`` (`limit` items from `offset`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import total_ordering
from typing import Any
from urllib.parse import urlencode

from .._errors import FieldError, Problem
from .._spec.model import Filter
from .state.protocol import Item
from .state.store import get_field


def _tags_match(tags: Any, query: str) -> bool:
    if not isinstance(tags, dict):
        return False
    for term in filter(None, (t.strip() for t in query.split(","))):
        key, _, value = term.partition(":")
        values = tags.get(key)
        if values is None or (value and value not in (values if isinstance(values, list) else [values])):
            return False
    return True


def _matcher(f: Filter, wanted: Any) -> Callable[[Item], bool]:
    if f.match == "icontains":
        needle = str(wanted).lower()
        return lambda item: needle in str(get_field(item, f.field) or "").lower()
    if f.match == "tags":
        return lambda item: _tags_match(get_field(item, f.field), str(wanted))
    if f.match == "any":
        choices = set(wanted if isinstance(wanted, list) else [wanted])
        return lambda item: bool(choices & set(get_field(item, f.field) or []))
    return lambda item: get_field(item, f.field) == wanted


def apply_filters(items: list[Item], filters: tuple[Filter, ...], query: dict[str, Any]) -> list[Item]:
    for f in filters:
        if f.param in query:
            keep = _matcher(f, query[f.param])
            items = [item for item in items if keep(item)]
    return items


def _plain(text: str) -> bool:
    """Whether JSON writes `text` as it is, in UTF-8 and in ASCII escapes alike (printable ASCII
    without quote or backslash)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def required_bytes(filters: tuple[Filter, ...], query: dict[str, Any]) -> tuple[bytes, ...]:
    """What the JSON of every item `apply_filters` keeps must contain: an equality filter on a
    plain string needs the string, quoted. The store decodes only the items that hold them all
    (a cheap necessary test; `apply_filters` still decides). Only for items as stored: a
    lifecycle may change a field before it is filtered on."""
    needed = []
    for f in filters:
        wanted = query.get(f.param)
        if f.match == "eq" and isinstance(wanted, str) and _plain(wanted):
            needed.append(b'"' + wanted.encode() + b'"')
    return tuple(needed)


#: Sort terms accepted at most, whatever a spec's pattern says: each term is one more key per item.
MAX_SORT_TERMS = 16


@total_ordering
class _Descending:
    """A sort key compared the other way round, so one sort serves asc and desc terms together."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[bool, str]) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key

    __hash__ = None  # type: ignore[assignment]


def _term_key(item: Item, field: str) -> tuple[bool, str]:
    value = get_field(item, field)
    return (value is None, str(value).lower() if value is not None else "")


def apply_sort(items: list[Item], sort: str | None) -> list[Item]:
    """``name:asc,id:desc``: one stable sort on a composite key (first term first).

    More than MAX_SORT_TERMS terms is a 400: no client needs them, and each costs work per item.
    """
    if not sort:
        return items
    terms = [term.partition(":") for term in sort.split(",")]
    if len(terms) > MAX_SORT_TERMS:
        reason = f"at most {MAX_SORT_TERMS} sort terms (got {len(terms)})"
        raise Problem(400, "invalid sort", kind="validation", fields=[FieldError("sort", reason)])
    plan = [(field, direction.lower() == "desc") for field, _, direction in terms]

    def key(item: Item) -> tuple[Any, ...]:
        return tuple(_Descending(_term_key(item, f)) if desc else _term_key(item, f) for f, desc in plan)

    return sorted(items, key=key)


def cursor_page(items: list[Item], key_field: str, envelope: str, query: dict[str, Any]) -> dict[str, Any]:
    """A Versori-style page: `first` items after `after` (or before `before`)."""
    first = int(query.get("first", 20))
    keys = [str(item.get(key_field)) for item in items]
    start, end = 0, len(items)
    if query.get("after"):
        start = _cursor_index(keys, query["after"], "after") + 1
    if query.get("before"):
        end = _cursor_index(keys, query["before"], "before")
    window = items[start:end]
    if query.get("before") and not query.get("after"):
        page_start = max(0, len(window) - first)
        page = window[page_start:]
        start += page_start
    else:
        page = window[:first]
    body: dict[str, Any] = {"totalCount": len(items)}
    if page and start + len(page) < len(items):
        body["next"] = str(page[-1].get(key_field))
    if page and start > 0:
        body["prev"] = str(page[0].get(key_field))
    body[envelope] = page
    return body


def _cursor_index(keys: list[str], cursor: str, param: str) -> int:
    try:
        return keys.index(cursor)
    except ValueError:
        raise Problem(400, "invalid cursor", kind="validation", fields=[FieldError(param, "unknown cursor")]) from None


def numbered_page(
    items: list[Item], envelope: str, query: dict[str, Any], url: str, raw_query: dict[str, str]
) -> dict[str, Any]:
    """A Django REST Framework page; without `page_size`, every item in one list."""
    if "page_size" not in query:
        return {envelope: items}
    size = int(query["page_size"])
    number = int(query.get("page", 1))
    count = len(items)
    last = max(1, -(-count // size))
    if number > last:
        raise Problem(404, "Invalid page.", kind="invalid_page")

    def link(page: int) -> str:
        return url + "?" + urlencode({**raw_query, "page": str(page), "page_size": str(size)})

    return {
        "count": count,
        "next": link(number + 1) if number < last else None,
        "previous": link(number - 1) if number > 1 else None,
        envelope: items[(number - 1) * size : number * size],
    }


def offset_page(items: list[Item], query: dict[str, Any]) -> list[Item]:
    """`limit` items from `offset` (each optional; a negative value counts as none)."""
    offset = _whole(query.get("offset"), 0)
    limit = _whole(query.get("limit"), len(items))
    return items[offset : offset + limit]


def _whole(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number >= 0 else default
