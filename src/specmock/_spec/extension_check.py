"""Checking an `x-specmock` declaration against the extension's schema (extension_schema.py).

Invariant: jsonschema decides what a load accepts and words the error; jsonschema-rs may
only vouch for a valid value first (it is faster on the large bundled documents), so
the two never disagree in what is accepted. jsonschema is imported only then.
"""

from __future__ import annotations

from typing import Any

from .validation import locate
from .yaml_lines import Document, JsonPath

#: jsonschema-rs checks of the extension schemas, by id (each held with its schema, so an id is never reused).
_FAST_CHECKS: dict[int, tuple[dict[str, Any], Any]] = {}


def _surely_valid(value: Any, schema: dict[str, Any]) -> bool:
    """Whether jsonschema-rs finds `value` valid for `schema` (formats unchecked, as jsonschema
    without a format checker). It may only vouch: anything else goes to jsonschema, whose
    error is the one reported, so the two never disagree in what a load accepts."""
    try:
        import jsonschema_rs
    except ImportError:
        return False
    try:
        held = _FAST_CHECKS.get(id(schema))
        if held is None or held[0] is not schema:
            fast = jsonschema_rs.Draft202012Validator(schema, validate_formats=False)
            held = _FAST_CHECKS[id(schema)] = (schema, fast)
        return bool(held[1].is_valid(value))
    except Exception:  # a schema or value it cannot take (a YAML date, a huge int): jsonschema decides
        return False


def check_extension(doc: Document, at: JsonPath, value: Any, schema: dict[str, Any], what: str) -> None:
    """Raise a LoadError at the first place `value` (found at `at`) breaks `schema`."""
    if _surely_valid(value, schema):
        return
    from jsonschema import Draft202012Validator  # words what jsonschema-rs did not vouch for

    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        path, message = locate(errors[0])
        where = (*at, *path)
        raise doc.error(where, f"invalid {what} at '{'.'.join(map(str, where))}': {message}")
