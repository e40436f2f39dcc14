"""Check a response against its own spec: the contract the mock promises.

Used by specmock's tests on every response, and available to users who want
to check a recorded exchange. Validators are compiled on first use per
(operation, status) and cached.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from ..server.dispatch import is_json_media_type
from ..server.router import Router
from ..spec.model import Operation
from ..spec.schematools import inline_refs
from ..spec.validation import compile_validator, format_path


class ResponseChecker:
    """Validates (method, path, status, body) against the routed operation's responses."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._cache: dict[tuple[int, str], Draft202012Validator | None] = {}

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
        media = (content_type or "").split(";", 1)[0].strip().lower()
        declared = {key.split(";", 1)[0].strip().lower(): key for key in content}
        if media in declared and not is_json_media_type(media):
            return []  # a declared text body: no JSON schema to hold it to
        if media not in declared:
            listed = ", ".join(content)
            return [f"{op.operation_id} {status}: content type {content_type!r} is not the declared {listed}"]
        validator = self._validator(op, status, declared[media], content)
        if validator is None:
            return []
        return [
            f"{op.operation_id} {status} at {format_path(e.absolute_path) or '<root>'}: {e.message}"
            for e in validator.iter_errors(body)
        ]

    def _validator(
        self, op: Operation, status: int, media: str, content: dict[str, Any]
    ) -> Draft202012Validator | None:
        key = (id(op), f"{status} {media}")
        if key not in self._cache:
            schema = (content.get(media) or {}).get("schema")
            self._cache[key] = compile_validator(schema, op.family.document) if schema is not None else None
        return self._cache[key]
