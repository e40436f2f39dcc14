"""Which Content-Type an answer goes out in, for a media type a response declares.

Shared by the examples an operation answers and the refusals the mock builds, so a
wildcard (`*/*`, `application/*`) is answered as JSON by both, and `text/*` as text.
Depends on nothing else in specmock (the model imports its users).
"""

from __future__ import annotations

import re

JSON_MEDIA = "application/json"


def sent_media_type(declared: str | None) -> str:
    """The Content-Type to send for a declared media type (none declared: JSON)."""
    if declared is None or declared in ("*/*", "application/*"):
        return JSON_MEDIA
    if declared == "text/*":
        return "text/plain"
    if declared.endswith("/*"):
        return declared[:-1] + "octet-stream"
    if not re.match(r"^[\w.+-]+/[\w.+-]+(\s*;.*)?$", declared):
        return JSON_MEDIA  # not a media type at all (a typo in the document): JSON, as before
    return declared
