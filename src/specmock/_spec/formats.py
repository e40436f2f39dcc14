"""The string formats specmock checks, without optional third-party checkers.

jsonschema only checks `date-time` and `uri` when extra packages are
installed; a mock that silently accepts `"yesterday"` as a date-time teaches
clients the wrong contract, so we check the formats our specs use ourselves.
(ULIDs are checked by the `pattern` of the specs' ULID schema, which test
generators such as schemathesis understand, not by a format.)

`FORMATS` holds the checks as plain functions (jsonschema-rs' fast path calls
them); jsonschema's FormatChecker is built from them on first use
(`format_checker()`), so loading a document imports no jsonschema.
Invariant: both validators check each format with the very same function.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from jsonschema import FormatChecker

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def is_date_time(value: object) -> bool:
    """RFC 3339 date-time with a required offset."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_uri(value: object) -> bool:
    """An absolute URI: a scheme and something after it."""
    if not isinstance(value, str):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value


def is_email(value: object) -> bool:
    """Something@something, as jsonschema's own loose check."""
    return not isinstance(value, str) or "@" in value


def _int_range(bits: int) -> tuple[int, int]:
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def is_int32(value: object) -> bool:
    """OpenAPI's int32: a signed 32-bit integer (a larger number is refused, not truncated)."""
    low, high = _int_range(32)
    return not isinstance(value, int) or isinstance(value, bool) or low <= value <= high


def is_int64(value: object) -> bool:
    """OpenAPI's int64: a signed 64-bit integer."""
    low, high = _int_range(64)
    return not isinstance(value, int) or isinstance(value, bool) or low <= value <= high


#: The formats we check, by name: the same functions for jsonschema and jsonschema-rs.
FORMATS: dict[str, Callable[[object], bool]] = {
    "date-time": is_date_time,
    "uri": is_uri,
    "email": is_email,
    "int32": is_int32,
    "int64": is_int64,
}


@lru_cache(maxsize=1)
def format_checker() -> FormatChecker:
    """jsonschema's checker of `FORMATS` (and no other format), built on first use."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    return checker
