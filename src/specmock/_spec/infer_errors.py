"""The error body inference derives from a document's own error schema.

The schema a document gives its 400 (else 422, 404, 4XX, default) becomes the
family's error template: message-like fields carry `$message`, code-like ones
`$code` or `$status`, list-like ones `$fields`, and the other required fields a
placeholder their schema allows. Invariant: no template without a `$message`.
"""

from __future__ import annotations

from typing import Any

from .infer_reader import HTTP_METHODS, Reader, base_type


def error_style(reader: Reader) -> dict[str, Any]:
    """The family's error body, built from the schema its 400 (else 422, 404, 4XX, default) documents."""
    for wanted in ("400", "422", "404", "4XX", "4xx", "default"):
        for _path, item in reader.paths():
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict) or wanted not in (op.get("responses") or {}):
                    continue
                found = reader.json_content((op.get("responses") or {})[wanted])
                if found is None:
                    continue
                body = _error_template(reader, found[1].get("schema"))
                if body:
                    return {"body": body}
    return {}


def _error_template(reader: Reader, schema: Any) -> dict[str, Any] | None:
    flat = reader.flat(schema)
    props = flat.get("properties") or {}
    if not props:
        return None
    required = set(flat.get("required") or [])
    template: dict[str, Any] = {}
    has_message = False
    for name, raw in props.items():
        sub = reader.flat(raw)
        kind = base_type(sub)
        lowered = name.lower()
        if lowered in ("message", "detail", "error_description", "errormessage", "description") and kind in (
            "string",
            None,
        ):
            template[name] = "$message"
            has_message = True
        elif lowered in ("code", "status", "statuscode", "status_code") and kind == "integer":
            template[name] = "$status"
        elif lowered in ("code", "error", "title", "errorcode", "error_code") and kind in ("string", None):
            template[name] = "$code"
        elif lowered in ("errors", "details", "fields", "violations") and kind == "array":
            template[name] = "$fields"
        elif lowered == "type" and kind == "string" and sub.get("format") in ("uri", "uri-reference", None):
            template[name] = "about:blank"
        elif name in required:
            template[name] = _placeholder(sub)
    if not has_message:
        for name, raw in props.items():
            if reader.flat(raw).get("type") == "string" and template.get(name) in (None, "$code"):
                template[name] = "$message"
                has_message = True
                break
    return template if has_message else None


def _placeholder(schema: dict[str, Any]) -> Any:
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    return {"integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}.get(str(kind), "")
