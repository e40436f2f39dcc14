"""Strings that match a schema's `pattern`, drawn from the run's random source.

Generated values must validate against the document that asked for them; a
`pattern` (`^-?\\d{0,10}(?:\\.\\d{0,2})?$` for an amount, an ARN, a date code) is
the constraint a word from Faker breaks most often on vendor documents.
rstr's `xeger` builds a string from Python's own parse of the regex, so the
string matches by construction; it is seeded by the caller's `random.Random`,
so a run's values repeat with its seed.

Invariants: the answer is None (the caller falls back to its own value) when
Python cannot parse the pattern (ECMA-only syntax such as `\\p{L}`), when it has
what xeger cannot build (lookarounds, back-references: it would write them out
literally), or when the string would break the schema's `minLength`/`maxLength`.
rstr is imported on first use, not at start-up.
"""

from __future__ import annotations

import random
import re
from typing import Any

#: Lookarounds and back-references: xeger writes them out literally instead of honouring them.
_UNBUILDABLE = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")


def pattern_text(schema: dict[str, Any], rng: random.Random) -> str | None:
    """A string matching `schema["pattern"]` within its length bounds, or None."""
    pattern = schema.get("pattern")
    if not isinstance(pattern, str) or _UNBUILDABLE.search(pattern):
        return None
    try:
        import rstr

        text = rstr.Rstr(rng).xeger(pattern)
    except Exception:  # unparsable or unbuildable: the caller's value stands
        return None
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if (isinstance(low, int) and len(text) < low) or (isinstance(high, int) and len(text) > high):
        return None
    return text
