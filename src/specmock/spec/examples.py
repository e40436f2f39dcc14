"""Answers for operations that fit no collection: what the document shows.

Like Prism, such an operation answers its success response's documented
example (the media type's `example`, else its first `examples` entry, else the
schema's own `examples`), else data generated from the schema. The request is
validated all the same; only the answer is canned. Compiled once per operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .model import Collection, Family
from .schematools import inline_refs

_JSON = re.compile(r"^application/([a-z0-9.+-]*\+)?json($|;)", re.IGNORECASE)
_ABSENT = object()


@dataclass(frozen=True)
class ExampleResponse:
    """The canned success of one operation: a fixed example, or a schema to fill."""

    status: int
    has_body: bool
    example: Any = None
    schema: Any = None

    @property
    def fixed(self) -> bool:
        return self.example is not _ABSENT


def json_body_schema(body: dict[str, Any]) -> Any:
    """The schema of a request body's JSON content (application/json first), or None."""
    content = body.get("content") or {}
    if "application/json" in content:
        return (content["application/json"] or {}).get("schema")
    for media, obj in content.items():
        if _JSON.match(media) and isinstance(obj, dict):
            return obj.get("schema")
    return None


def example_collection(family: Family, template: str) -> Collection:
    """A stand-in collection for an example operation: it names the resource in messages, holds nothing."""
    words = [s for s in template.split("/") if s and not s.startswith("{")]
    label = (words[-1] if words else "resource").replace("_", " ").replace("-", " ")
    return Collection(name="_example", label=label[:1].upper() + label[1:], id_style="given", family=family.name)


def compile_example(document: dict[str, Any], responses: dict[str, Any], status: int) -> ExampleResponse:
    """What an example operation answers with `status`."""
    raw = responses.get(str(status)) or responses.get("default") or {}
    response = inline_refs(raw, document)
    content = response.get("content") if isinstance(response, dict) else None
    media_obj: dict[str, Any] | None = None
    for media, obj in (content or {}).items():
        if _JSON.match(media) and isinstance(obj, dict):
            media_obj = obj
            break
    if media_obj is None:
        return ExampleResponse(status=status, has_body=False, example=_ABSENT)
    example: Any = _ABSENT
    schema = media_obj.get("schema")
    if "example" in media_obj:
        example = media_obj["example"]
    elif isinstance(media_obj.get("examples"), dict):
        for named in media_obj["examples"].values():
            if isinstance(named, dict) and "value" in named:
                example = named["value"]
                break
    elif isinstance(schema, dict) and isinstance(schema.get("examples"), list) and schema["examples"]:
        example = schema["examples"][0]
    return ExampleResponse(status=status, has_body=True, example=example, schema=schema or {})
