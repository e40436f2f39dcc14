"""Answers for operations that fit no collection: what the document shows.

Like Prism, such an operation answers its success response's documented
example (the media type's `example`, else its `examples` entries in order, else the
schema's own `examples`), else data generated from the schema. Unlike Prism, an
example that breaks its own schema (an enum value the schema lacks, a missing
required field: vendor documents have them) is passed over for the next one, else
for generated data, so the answer validates. The request is validated all the
same; only the answer is canned. Compiled once per operation.

Every answer goes out in a media type its response declares (`response_media_type`):
application/json where declared, else the first JSON one (`application/hal+json`,
`application/vnd.api+json`), else the first declared (`text/plain`, `application/xml`,
`application/pdf`); a wildcard as the first type it admits of application/json,
text/plain and TYPE/octet-stream. A
non-JSON answer is its documented example when that is a string, else empty: the mock
generates no XML, CSV or binary content, but never sends a type the document does not name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .fastvalidation import BodyValidator
from .media_types import JSON_MEDIA, sent_media_type
from .model import Collection, Family
from .schematools import MAX_INLINED_REFS, inline_refs, resolve_pointer
from .validation import compile_validator

_JSON = re.compile(r"^application/([a-z0-9.+-]*\+)?json($|;)", re.IGNORECASE)
_ABSENT = object()


@dataclass(frozen=True)
class ExampleResponse:
    """The canned success of one operation: a fixed example, or a schema to fill."""

    status: int
    has_body: bool
    example: Any = None
    schema: Any = None
    #: The bytes of a non-JSON answer (its documented string example, else empty); None for JSON or no body.
    raw: bytes | None = None

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


def _content(document: dict[str, Any], responses: dict[str, Any], status: int) -> dict[str, Any]:
    """The `content` map of the response declared for `status` (else `default`), refs resolved."""
    raw = responses.get(str(status)) or responses.get("default") or {}
    response = inline_refs(raw, document)
    content = response.get("content") if isinstance(response, dict) else None
    return {str(k): v for k, v in content.items() if isinstance(v, dict)} if isinstance(content, dict) else {}


def _media_types(document: dict[str, Any], responses: dict[str, Any], status: int) -> list[str]:
    """The keys of `_content` (the media types declared), read without inlining the schemas
    under them: the Content-Type of every operation is chosen at load, and copying its whole
    response (schemas inlined) for the names was the largest share of that."""
    response = _followed(document, responses.get(str(status)) or responses.get("default") or {})
    content = _followed(document, response.get("content")) if isinstance(response, dict) else None
    if not isinstance(content, dict):
        return []
    return [str(k) for k, v in content.items() if isinstance(_followed(document, v), dict)]


def _followed(document: dict[str, Any], node: Any) -> Any:
    """`node` as inline_refs gives it at its top: a `$ref` chain followed to its target (a `$ref`
    with siblings stands for them: inlining wraps the target in an allOf beside them); a
    reference met twice, or more than MAX_INLINED_REFS deep, stays a reference, as inlining
    leaves it. What lies below is not copied."""
    seen: set[str] = set()
    while isinstance(node, dict):
        ref = node.get("$ref")
        if not (isinstance(ref, str) and ref.startswith("#")):
            return node
        if len(node) > 1:
            return {k: v for k, v in node.items() if k != "$ref"}
        if ref in seen or len(seen) >= MAX_INLINED_REFS:
            return node
        seen.add(ref)
        node = resolve_pointer(document, ref)
    return node


def _declared_media(content: Iterable[str]) -> str | None:
    """The media type (as declared) to answer in: JSON first, else the first one; None when none is."""
    declared = list(content)
    if JSON_MEDIA in declared:
        return JSON_MEDIA
    return next((m for m in declared if _JSON.match(m)), next(iter(declared), None))


def response_media_type(document: dict[str, Any], responses: dict[str, Any], status: int) -> str:
    """The Content-Type of an answer with `status`: a media type its response declares."""
    return sent_media_type(_declared_media(_media_types(document, responses, status)))


def _text_example(media_obj: dict[str, Any]) -> bytes:
    """A non-JSON media type's documented example when it is a string, else nothing."""
    candidates = [media_obj.get("example")]
    if isinstance(media_obj.get("examples"), dict):
        candidates += [e.get("value") for e in media_obj["examples"].values() if isinstance(e, dict)]
    schema = media_obj.get("schema")
    if isinstance(schema, dict):
        candidates += [schema.get("example"), *(schema.get("examples") or [])[:1]]
    text = next((c for c in candidates if isinstance(c, str)), "")
    return text.encode("utf-8", "replace")


def compile_example(document: dict[str, Any], responses: dict[str, Any], status: int) -> ExampleResponse:
    """What an example operation answers with `status`."""
    content = _content(document, responses, status)
    media = _declared_media(content)
    if media is None:
        return ExampleResponse(status=status, has_body=False, example=_ABSENT)
    media_obj = content[media]
    if not _JSON.match(sent_media_type(media)):
        return ExampleResponse(status=status, has_body=False, example=_ABSENT, raw=_text_example(media_obj))
    schema = media_obj.get("schema")
    candidates: list[Any] = []
    if "example" in media_obj:
        candidates.append(media_obj["example"])
    if isinstance(media_obj.get("examples"), dict):
        candidates += [e["value"] for e in media_obj["examples"].values() if isinstance(e, dict) and "value" in e]
    if isinstance(schema, dict) and isinstance(schema.get("examples"), list):
        candidates += schema["examples"]
    example = _first_valid(candidates, schema, document)
    return ExampleResponse(status=status, has_body=True, example=example, schema=schema or {})


def _first_valid(candidates: list[Any], schema: Any, document: dict[str, Any]) -> Any:
    """The first example that validates against `schema` (_ABSENT when none does). A schema that
    cannot be compiled vouches for nothing and refutes nothing: the first example stands."""
    if not candidates:
        return _ABSENT
    if not isinstance(schema, dict) or not schema:
        return candidates[0]
    try:
        validator = BodyValidator(compile_validator(schema, document))  # jsonschema-rs vouches first
        return next((c for c in candidates if validator.is_valid(c)), _ABSENT)
    except Exception:  # a broken schema is the loader's to report, not the example's
        return candidates[0]
