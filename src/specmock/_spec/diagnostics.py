"""What loading found wrong in a document but could serve anyway: one warning line each.

Real documents are written by hand and checked by tools that disagree; a mock
that refuses a whole document for an annotation teaches nothing. Each problem
that does not stop an operation from being served is recorded here as one
line, `file:line: #/json/pointer: reason`, and loading goes on; an operation
that cannot be served is recorded as left out, with the reason. With `strict`,
the same lines are the LoadError instead.
Invariant: a load either raises, or its Diagnostics hold every line it would
have raised with under `strict`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .._errors import LoadError
from .yaml_lines import Document, JsonPath

log = logging.getLogger("specmock.load")


def pointer(json_path: JsonPath) -> str:
    """`("paths", "/x", "get")` as the JSON pointer fragment `#/paths/~1x/get` (RFC 6901)."""
    return "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in json_path)


class Unservable(LoadError):
    """The document's OpenAPI part makes this one operation unservable (its own schema,
    parameters or responses); the lenient load leaves the operation out."""


@dataclass(frozen=True)
class LeftOut:
    """An operation the document declares but that cannot be served, and why."""

    method: str
    path: str
    operation_id: str | None
    reason: str


@dataclass
class Diagnostics:
    """The warnings (and left-out operations) of loading one document."""

    document: Document
    strict: bool = False
    lines: list[str] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    _errors: list[LoadError] = field(default_factory=list)

    def warn(self, json_path: JsonPath, reason: str) -> None:
        """One problem the load repaired or ignored, at `json_path` of the document."""
        error = self.document.error(json_path, f"{pointer(json_path)}: {reason}")
        self._errors.append(error)
        line = str(error)
        self.lines.append(line)
        if not self.strict:
            log.warning("warning: %s", line)

    def leave_out(self, method: str, path: str, operation_id: str | None, error: LoadError) -> None:
        """An operation that cannot be served: named in a warning and kept for `specmock routes`."""
        name = f"{method.upper()} {path}" + (f" ({operation_id})" if operation_id else "")
        reason = f"{name} left out: {error.reason}"
        self.left_out.append(LeftOut(method.upper(), path, operation_id, error.reason))
        located = LoadError(error.path, error.line, reason)
        self._errors.append(located)
        self.lines.append(str(located))
        if not self.strict:
            log.warning("warning: %s", located)

    def raise_if_strict(self) -> None:
        """Under `strict`, every line recorded so far as one LoadError."""
        if self.strict and self._errors:
            raise LoadError.of(self._errors)
