"""Check an overlaid spec's collections against the document's own item schemas.

An overlay says how the mock behaves beside a document it does not change; it
must not make the mock serve items that break that document. So, once an
overlay is applied, every value the mock would put in an item because of what
the overlay declared is checked against the item schema (every oneOf branch's
fields read together): a sample id of the declared style (`id: {style: uuid}`
on an `integer` id is refused), the timestamps, the defaults. A problem is a
LoadError at the overlay's line that declared it; what the overlay did not
declare is not its fault and is left to the compiler.
Invariant: nothing is changed; the first problem found is raised.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .overlay import is_overlay_document, parse_path
from .regex_sample import sample_pattern
from .schematools import inline_refs, resolve_pointer
from .variants import item_variants
from .yaml_lines import Document, JsonPath

_SAMPLE_IDS = {
    "integer": 1,
    "uuid": "0b6f4f7e-1c2d-4e3f-9a0b-1c2d3e4f5a6b",
    "ulid": "01HFS2NEAZ6ECZBZMN4FF775P7",
}
_SAMPLE_STAMP = "2026-01-01T00:00:00Z"

if TYPE_CHECKING:
    from jsonschema import FormatChecker


@lru_cache(maxsize=1)
def _formats() -> FormatChecker:
    """jsonschema's own format checks, built when an overlay is first checked (jsonschema is
    imported only then: a start without overlays does not need it)."""
    from jsonschema import FormatChecker

    return FormatChecker()


def check_overlaid(spec: Any, overlay: Document) -> None:
    """Refuse `overlay` (a LoadError at its line) if what it declares breaks `spec`'s item schemas."""
    ext = spec.get("x-specmock") if isinstance(spec, dict) else None
    collections = ext.get("collections") if isinstance(ext, dict) else None
    if not isinstance(collections, dict):
        return
    for name, raw in collections.items():
        if not isinstance(raw, dict) or not isinstance(raw.get("schema"), str):
            continue
        try:
            schema = inline_refs(resolve_pointer(spec, raw["schema"]), spec)
        except (KeyError, IndexError, ValueError, TypeError):
            continue  # the compiler names a schema that does not exist
        if not isinstance(schema, dict):
            continue
        props: dict[str, Any] = {}
        for shape in item_variants(schema):
            for field, sub in (shape.get("properties") or {}).items():
                props.setdefault(field, sub)
        at: JsonPath = ("x-specmock", "collections", name)
        for path, field, value, what in _declared_values(raw):
            where = _source(overlay, (*at, *path))
            if where is None or field not in props or not isinstance(props[field], dict):
                continue
            problem = _breaks(props[field], value)
            if problem:
                raise overlay.error(
                    where,
                    f"collection {name!r}: {what} ({value!r}) would break the document's schema of "
                    f"{field!r}: {problem}",
                )


def _declared_values(raw: dict[str, Any]) -> list[tuple[JsonPath, str, Any, str]]:
    """(where in the collection, item field, a value the mock would store there, what it is)."""
    out: list[tuple[JsonPath, str, Any, str]] = []
    id_spec: dict[str, Any] = raw["id"] if isinstance(raw.get("id"), dict) else {}
    style = id_spec.get("style")
    field = str(id_spec.get("field", "id"))
    sample = _sample_id(id_spec)
    if sample is not None:
        out.append((("id", "style"), field, sample, f"a {style} id"))
        for key in ("prefix", "width", "pattern", "field"):
            if key in id_spec:
                out.append((("id", key), field, sample, f"a {style} id"))
    for role, stamp_field in (raw.get("timestamps") or {}).items():
        out.append((("timestamps", role), str(stamp_field), _SAMPLE_STAMP, f"the {role} timestamp"))
    for default_field, value in (raw.get("defaults") or {}).items():
        out.append((("defaults", default_field), str(default_field), value, "the default"))
    return out


def _sample_id(id_spec: dict[str, Any]) -> Any:
    style = id_spec.get("style")
    if style in _SAMPLE_IDS:
        return _SAMPLE_IDS[style]
    if style == "sequential":
        return f"{id_spec.get('prefix', '')}{1:0{int(id_spec.get('width', 0) or 0)}d}"
    if style == "pattern" and isinstance(id_spec.get("pattern"), str):
        try:
            return sample_pattern(id_spec["pattern"], random.Random(0))
        except ValueError:
            return None  # the compiler says why
    return None


def _breaks(schema: dict[str, Any], value: Any) -> str | None:
    """Why `value` breaks `schema`, or None. A `format: uuid`/`ulid` field takes only that style."""
    fmt = schema.get("format")
    if fmt in ("uuid", "ulid") and isinstance(value, str):
        wanted = str(_SAMPLE_IDS[fmt])
        if len(value) != len(wanted) or ("-" in value) != ("-" in wanted):
            return f"it is declared format {fmt}"
    from jsonschema import Draft202012Validator

    try:
        error = next(iter(Draft202012Validator(schema, format_checker=_formats()).iter_errors(value)), None)
    except Exception:  # a schema jsonschema cannot read: the loader reports it
        return None
    return error.message if error is not None else None


def _source(overlay: Document, path: JsonPath) -> JsonPath | None:
    """Where in `overlay` the value at `path` of the spec was written, or None if it was not."""
    data = overlay.data
    if not isinstance(data, dict):
        return None
    if not is_overlay_document(data):
        return path if _has(data, path) else None
    actions: list[Any] = data["actions"] if isinstance(data.get("actions"), list) else []
    for index in range(len(actions) - 1, -1, -1):
        action = actions[index]
        if not isinstance(action, dict) or "update" not in action:
            continue
        try:
            steps = parse_path(str(action.get("target", "")))
        except ValueError:
            continue
        if len(steps) > len(path) or any(s is not None and s != p for s, p in zip(steps, path, strict=False)):
            continue
        rest = path[len(steps) :]
        if _has(action["update"], rest):
            return ("actions", index, "update", *rest)
    return None


def _has(node: Any, path: JsonPath) -> bool:
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
