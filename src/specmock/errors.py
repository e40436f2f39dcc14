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


class LoadError(SpecmockError):
    """A spec or scenario document is invalid: it says where and why."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {reason}")


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
