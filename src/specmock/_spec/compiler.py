"""Compile an OpenAPI document and its `x-specmock` extension into a Family.

Everything the request path needs is prepared here, once: parameter and body
validators, authenticators, the collections' rules and each operation's
action. Any inconsistency is a LoadError naming the file and line; with
Diagnostics (the lenient load), an operation the OpenAPI part of the document
makes unservable (an Unservable error: a broken schema, no 2xx response, a
route declared twice) is left out with a warning instead, the rest served. A
mistake in `x-specmock` (the author's own declarations) still refuses the load.
This module compiles the family and its routes; collections are compiled in
collection_compiler.py, operations in operation_compiler.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._errors import LoadError
from .auth import SecurityScheme
from .collection_compiler import compile_collection, link_collections, scope_depth
from .diagnostics import Diagnostics, Unservable
from .error_bodies import ErrorBodyCompiler
from .error_styles import ErrorStyle
from .extension_check import check_extension
from .extension_schema import FAMILY_SCHEMA
from .item_rules import answered_fields
from .model import Family
from .operation_compiler import compile_operation
from .schema_check import check_document
from .schematools import ExpansionTooLarge, document_budget
from .yaml_lines import Document, JsonPath, load_yaml

__all__ = ["HTTP_METHODS", "Unservable", "check_unique_families", "compile_family", "load_family", "scope_depth"]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _route_key(template: str, method: str) -> tuple[str, str]:
    """One route per method and shape: `/a/` is `/a`, `/a/{id}` is `/a/{petId}` (the router's reading)."""
    return (method, re.sub(r"\{[^/}]*\}", "{}", template.rstrip("/") or "/"))


def load_family(path: Path | str) -> Family:
    """Load and compile one spec file."""
    return compile_family(load_yaml(path))


def compile_family(doc: Document, diagnostics: Diagnostics | None = None) -> Family:
    """The Family `doc` describes. Without `diagnostics` any problem is a LoadError; with them
    an Unservable operation is left out (recorded there and on the Family) and the rest served."""
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a spec must be a mapping")
    version = str(data.get("openapi", ""))
    if not version.startswith("3."):
        raise doc.error(("openapi",), f"not an OpenAPI 3 document (openapi: {version or 'missing'})")
    ext = data.get("x-specmock")
    if not isinstance(ext, dict):
        raise doc.error((), "the spec has no top-level 'x-specmock' extension naming its family")
    check_extension(doc, ("x-specmock",), ext, FAMILY_SCHEMA, "x-specmock")

    raw_errors = ext.get("errors", {})
    style = ErrorStyle(
        codes=raw_errors.get("codes", {}),
        messages=raw_errors.get("messages", {}),
        field_messages=raw_errors.get("fieldMessages", {}),
        invalid_path_status=raw_errors.get("invalidPathStatus", 400),
    )
    if "body" in raw_errors:
        style.body = raw_errors["body"]
    style.fields_body = raw_errors.get("fieldsBody")
    error_bodies = ErrorBodyCompiler(doc, style)

    family = Family(
        name=ext["family"],
        title=str(data.get("info", {}).get("title", ext["family"])),
        source=doc.path,
        prefix=_prefix(doc),
        document=data,
        errors=style,
        error_bodies=error_bodies.family_bodies,
    )
    with document_budget():  # what inlining may copy for this document (schematools.py)
        return _compile(doc, data, ext, family, diagnostics, error_bodies)


def _compile(
    doc: Document,
    data: dict[str, Any],
    ext: dict[str, Any],
    family: Family,
    diagnostics: Diagnostics | None,
    error_bodies: ErrorBodyCompiler,
) -> Family:
    for name, raw in (ext.get("collections") or {}).items():
        family.collections[name] = compile_collection(doc, name, raw)
        family.collections[name].family = family.name
    link_collections(doc, family)

    schemes = {
        name: SecurityScheme.from_spec(name, raw)
        for name, raw in (data.get("components", {}).get("securitySchemes") or {}).items()
    }
    check_document(data)
    seen: dict[str, JsonPath] = {}
    routes: dict[tuple[str, str], str] = {}
    for path_template, item in (data.get("paths") or {}).items():
        if not isinstance(item, dict):
            raise doc.error(("paths", path_template), "a path item must be a mapping")
        for method in HTTP_METHODS:
            if method not in item:
                continue
            at: JsonPath = ("paths", path_template, method)
            try:
                try:
                    op = compile_operation(doc, family, schemes, path_template, method, item, at, error_bodies)
                except ExpansionTooLarge as too_large:
                    raise Unservable(doc.path, doc.line_of(at), f"{too_large}; not served") from None
                if op.operation_id in seen:
                    raise Unservable(doc.path, doc.line_of(at), f"operationId {op.operation_id!r} is used twice")
                route = _route_key(path_template, method)
                if route in routes:
                    raise Unservable(
                        doc.path,
                        doc.line_of(at),
                        f"{method.upper()} {path_template} is the same route as {routes[route]} "
                        "(a trailing slash is optional, parameter names do not count)",
                    )
            except Unservable as exc:
                if diagnostics is None:
                    raise
                raw = item[method]
                op_id = raw.get("operationId") if isinstance(raw, dict) else None
                diagnostics.leave_out(method, family.prefix + path_template, op_id, exc)
                continue
            seen[op.operation_id] = at
            routes[route] = f"{method.upper()} {path_template}"
            family.operations.append(op)
    _note_answered_fields(data, family)
    if not family.operations:
        if diagnostics is None:
            raise doc.error(("paths",), "the spec declares no operations")
        diagnostics.warn(("paths",), "no operation can be served; every request answers 404")
    if diagnostics is not None:
        family.left_out = list(diagnostics.left_out)
        family.warnings = list(diagnostics.lines)
    error_bodies.finish()
    return family


def _note_answered_fields(data: dict[str, Any], family: Family) -> None:
    """What every answer about a collection's items requires of them (a list of summaries),
    known once all its operations are compiled: noted on the collection, filled on each item."""
    for op in family.operations:
        for name, schema in answered_fields(data, op).items():
            op.collection.answered_fields.setdefault(name, schema)


def _prefix(doc: Document) -> str:
    servers = doc.data.get("servers") or [{"url": "/"}]
    server = servers[0]
    url = str(server.get("url", "/"))
    for name, var in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(var.get("default", "")))
    return urlsplit(url).path.rstrip("/")


def check_unique_families(families: list[Family]) -> None:
    """Two specs may not claim the same family name (the router refuses a shared method and path)."""
    names: dict[str, Path] = {}
    for fam in families:
        if fam.name in names:
            raise LoadError(fam.source, None, f"family {fam.name!r} is also defined by {names[fam.name]}")
        names[fam.name] = fam.source
