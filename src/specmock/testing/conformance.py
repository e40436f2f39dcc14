"""Check a response against its own spec: the contract the mock promises.

Used by specmock's tests on every response, and available to users who want
to check a recorded exchange. Validators are compiled on first use per
(operation, status, media type) and cached. The Content-Type must be one the
response declares (`*/*` and `type/*` match as they say); a JSON one
(`application/json`, `application/*+json`) has its body checked against that
media type's schema, another (`text/plain`, `application/xml`) only its type.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator

from ..server.router import Router
from ..spec.model import Operation
from ..spec.schematools import inline_refs
from ..spec.validation import compile_validator, format_path

_JSON = re.compile(r"^application/([a-z0-9.+-]*\+)?json$")


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _declared(content: dict[str, Any], media: str) -> tuple[str, Any] | None:
    """The declared media type (and its object) that `media` answers: itself, else a wildcard."""
    declared = {_media(str(m)): obj for m, obj in content.items()}
    kind = media.split("/", 1)[0]
    for candidate in (media, f"{kind}/*", "*/*"):
        if candidate in declared:
            return candidate, declared[candidate]
    return None


class ResponseChecker:
    """Validates (method, path, status, body) against the routed operation's responses."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._cache: dict[tuple[int, str, str], Draft202012Validator | None] = {}

    def problems(self, method: str, raw_path: str, status: int, body: Any, content_type: str | None) -> list[str]:
        """Why this response breaks the spec; empty when it conforms."""
        match = self.router.match(method, raw_path)
        if match.operation is None:
            return []  # unrouted answers (404/405) are checked against the family's error style elsewhere
        op = match.operation
        response = (
            op.responses.get(str(status)) or op.responses.get(f"{str(status)[0]}XX") or op.responses.get("default")
        )
        if response is None:
            return [f"{op.operation_id} does not document status {status}"]
        response = inline_refs(response, op.family.document)
        content = response.get("content") or {}
        if not content:
            return [] if body in (None, b"", "") else [f"{op.operation_id} {status} has no body in the spec"]
        media = _media(content_type or "")
        declared = _declared(content, media)
        if declared is None:
            names = ", ".join(map(str, content))
            return [f"{op.operation_id} {status}: content type {content_type!r} is not one the spec declares ({names})"]
        if not _JSON.match(media):
            return []  # a declared non-JSON type: its bytes are not JSON to validate
        validator = self._validator(op, status, *declared)
        if validator is None:
            return []
        return [
            f"{op.operation_id} {status} at {format_path(e.absolute_path) or '<root>'}: {e.message}"
            for e in validator.iter_errors(body)
        ]

    def _validator(self, op: Operation, status: int, media: str, obj: Any) -> Draft202012Validator | None:
        key = (id(op), str(status), media)
        if key not in self._cache:
            schema = obj.get("schema") if isinstance(obj, dict) else None
            self._cache[key] = compile_validator(schema, op.family.document) if schema is not None else None
        return self._cache[key]
