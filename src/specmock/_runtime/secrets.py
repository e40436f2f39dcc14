"""Write-only fields survive an update that does not resend them.

A client can never read a write-only field (a token, a password), so it cannot
send it back: an update that replaces the object holding it (AppSec+
UpdateConnector with a new `config`) would otherwise erase a secret the client
never meant to touch. Invariant: after a replace or update, every write-only
field the stored item had is still there unless the request named it, or the
request dropped the whole object that held it (then the field has no home).
Paths through arrays are left alone: items of a replaced array have no identity
to match them by.
"""

from __future__ import annotations

from typing import Any

from .._spec.schematools import FlagPath

_ABSENT = object()


def _dig(value: Any, path: FlagPath) -> Any:
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def keep_write_only(paths: frozenset[FlagPath], old: dict[str, Any], body: Any, new: dict[str, Any]) -> None:
    """Copy into `new` (in place, copying the objects on the way) each write-only value of `old`
    that `body` does not name, where `new` still has the object that held it."""
    for path in paths:
        if "*" in path:
            continue
        kept = _dig(old, path)
        if kept is _ABSENT or _dig(body, path) is not _ABSENT:
            continue
        holder = _dig(new, path[:-1])
        if not isinstance(holder, dict) or path[-1] in holder:
            continue
        node = new
        for part in path[:-1]:
            node[part] = dict(node[part])
            node = node[part]
        node[path[-1]] = kept
