"""Near-miss suggestions: "did you mean 'rate-limited'?" for a name that is almost a known one.

Every error that rejects a name (a scenario, an operationId, a key, a collection, a
bundled spec) words its hint through `did_you_mean`, so the cutoff and wording are the
same everywhere. Invariant: a suggestion is always one of the `known` names, and none is
offered when nothing is close (a wrong guess costs more than no guess).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How alike two names must be (difflib's ratio) to be offered; 0.6 is difflib's own default.
CUTOFF = 0.6


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name nearest `word`, or None when none is near. Case is ignored for the
    comparison (`triggerscan` finds `TriggerScan`) but the known spelling is returned."""
    names = list(dict.fromkeys(known))
    by_folded = {name.lower(): name for name in names}
    found = difflib.get_close_matches(word.lower(), list(by_folded), n=1, cutoff=CUTOFF)
    return by_folded[found[0]] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the nearest known name, or "" when none is near."""
    found = closest(word, known)
    return f" (did you mean {found!r}?)" if found is not None and found != word else ""
