"""Schema patterns compiled by RE2 (linear time), without jsonschema.

The RE2 side of patterns.py, apart so that what only needs to know whether a
pattern compiles (the load's repairs, the document check, samples of a pattern)
does not import jsonschema: jsonschema is imported only when a value is refused
and the refusal must be worded (patterns.py, validation.py).
Invariant: a pattern RE2 cannot compile is None here, never Python's `re`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported once, as a load warning, not on stderr


@lru_cache(maxsize=4096)
def compiled(pattern: str) -> Any:
    """`pattern` compiled by RE2, or None when RE2 cannot take it (it would need backtracking)."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except (re2.error, TypeError, ValueError):
        return None


def problem(pattern: str) -> str | None:
    """Why `pattern` cannot be matched in linear time, or None when it can."""
    if compiled(pattern) is not None:
        return None
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"not a linear-time regular expression ({detail})"
    except (TypeError, ValueError) as exc:
        return f"not a regular expression ({exc})"
    return "not a regular expression"
