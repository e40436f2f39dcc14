"""Errors specmock raises: at load time (a broken spec or scenario) and at request time.

Load-time errors carry the file, line and reason, so a user can fix the document
without reading a traceback. Request-time problems are plain data that the
family's own error template turns into the body a real API would send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class SpecmockError(Exception):
    """Base class of every error specmock raises on purpose."""


@dataclass(frozen=True)
class Located:
    """One problem in a document: the file, the line (when known) and why."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


class LoadError(SpecmockError):
    """A spec or scenario document is invalid: it says where and why.

    It may hold several problems (a scenario is checked in full and reports all
    of them, one `file:line: reason` per line); `path`, `line` and `reason` are
    the first one's.
    """

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.problems = [Located(str(path), line, reason)]
        super().__init__(reason)

    @classmethod
    def of(cls, errors: list[LoadError]) -> LoadError:
        """Several load errors as one, in the order they were found."""
        first = errors[0]
        combined = cls(first.path, first.line, first.reason)
        combined.problems = [p for e in errors for p in e.problems]
        return combined

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def reason(self) -> str:
        return self.problems[0].reason

    def __str__(self) -> str:
        return "\n".join(map(str, self.problems))


@dataclass(frozen=True)
class FieldError:
    """One invalid field of a request, `field` in the `a.b[0].c` form."""

    field: str
    message: str


@dataclass
class Problem(Exception):
    """A request-time error: rendered with the family's error template.

    `kind` names the situation (``missing_credentials``, ``not_found``, ...) so a
    family can word it its own way; `message` is the fallback wording.
    """

    status: int
    message: str
    kind: str = ""
    fields: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.message}"
