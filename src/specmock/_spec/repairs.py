"""Repair, at load, what real documents get wrong without it stopping an operation.

Runs on the document as written (after external refs are bundled, before 3.0
schemas are converted), so each warning names the keyword's own JSON path and
line. Each repair is the reading the author evidently meant, or ignoring an
annotation; each is one warning line (diagnostics.py):
- `examples` that is not an array (a map, a string) under a schema: ignored;
- `example` beside `examples` in a schema: `example` ignored;
- 3.0's `nullable` in a 3.1 document: read as 3.0 reads it;
- a `format` specmock does not know: not checked (one line per format name);
- a `pattern` (or `patternProperties` key) RE2 cannot run in linear time: ignored;
- `$schema` naming another dialect, `$id`: names, never fetched; dropped;
- a local `$ref` that does not resolve: `#/$defs/X` written inside a schema with
  that `$defs` is read against it; any other matches any value;
- a path template carrying a query string (`/export?filename={filename}`): served
  at its path, the parameters named after `?` read from the query;
- an operationId used twice: the later one served under a numbered id.
Literal values (`example`, `default`, `const`, `enum`, an Example's `value`)
are data, never walked: a `$ref` in them is not a reference.
Invariant: after `repair`, every local `$ref` in the document resolves and every
schema pattern compiles in RE2.
"""

from __future__ import annotations

import re
from typing import Any

from .diagnostics import Diagnostics, pointer
from .linear_regex import problem
from .openapi_versions import OpenApiVersion, nullable_schema
from .schematools import resolve_pointer
from .yaml_lines import Document, JsonPath

#: JSON Schema 2020-12's formats, OpenAPI's, and those of the OpenAPI format registry.
KNOWN_FORMATS = frozenset(
    str.split(
        "date-time date time duration email idn-email hostname idn-hostname ipv4 ipv6 uri uri-reference "
        "iri iri-reference uuid uri-template json-pointer relative-json-pointer regex "
        "int32 int64 float double byte binary password ulid "
        "base64url char commonmark decimal decimal128 double-int html http-date int8 int16 uint8 uint16 "
        "uint32 uint64 media-range sf-binary sf-boolean sf-decimal sf-integer sf-string sf-token"
    )
)
_DIALECTS = ("https://json-schema.org/draft/2020-12/schema", "https://spec.openapis.org/oas/3.1/dialect/base")

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "additionalProperties",
    "items",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_LITERALS = frozenset(("example", "default", "const", "enum"))


class _Repairer:
    def __init__(self, doc: Document, diagnostics: Diagnostics, version: OpenApiVersion) -> None:
        self.root = doc.data
        self.diagnostics = diagnostics
        self.v31 = version is OpenApiVersion.V3_1
        self.formats: dict[str, JsonPath] = {}
        self.format_uses: dict[str, int] = {}

    def node(self, value: Any, at: JsonPath) -> None:
        """Any part of the document that is not a schema: find the schemas and refs in it."""
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.node(item, (*at, index))
            return
        if not isinstance(value, dict):
            return
        self.ref(value, at, ())
        for key, sub in value.items():
            if not isinstance(key, str) or key.startswith("x-") or key in _LITERALS:
                continue
            if key == "value" and len(at) >= 2 and at[-2] == "examples":
                continue
            if key == "schema":
                self.schema(sub, (*at, key), ())
            elif key == "schemas" and at == ("components",) and isinstance(sub, dict):
                for name, schema in sub.items():
                    self.schema(schema, (*at, key, name), ())
            else:
                self.node(sub, (*at, key))

    def schema(self, schema: Any, at: JsonPath, scopes: tuple[JsonPath, ...]) -> None:
        if not isinstance(schema, dict):
            return
        if isinstance(schema.get("$defs"), dict):
            scopes = (*scopes, at)
        self.ref(schema, at, scopes)
        self.annotations(schema, at)
        self.keywords(schema, at)
        for key in _SCHEMA_MAPS:
            if isinstance(schema.get(key), dict):
                for name, sub in schema[key].items():
                    self.schema(sub, (*at, key, name), scopes)
        for key in _SCHEMA_LISTS:
            if isinstance(schema.get(key), list):
                for index, sub in enumerate(schema[key]):
                    self.schema(sub, (*at, key, index), scopes)
        for key in _SCHEMA_ONE:
            sub = schema.get(key)
            if isinstance(sub, list):
                for index, each in enumerate(sub):
                    self.schema(each, (*at, key, index), scopes)
            else:
                self.schema(sub, (*at, key), scopes)
        if self.v31 and "nullable" in schema:
            self.nullable(schema, at)

    def annotations(self, schema: dict[str, Any], at: JsonPath) -> None:
        warn = self.diagnostics.warn
        if "examples" in schema and not isinstance(schema["examples"], list):
            del schema["examples"]
            warn((*at, "examples"), "examples must be an array; ignored")
        if "example" in schema and "examples" in schema:
            del schema["example"]
            warn((*at, "example"), "example beside examples; example ignored")
        for key in ("$schema", "$id"):
            value = schema.get(key)
            if key in schema and not (key == "$schema" and value in _DIALECTS):
                del schema[key]
                warn((*at, key), f"{key} {value!r} is a name, never fetched; ignored")
            elif key in schema:
                del schema[key]

    def keywords(self, schema: dict[str, Any], at: JsonPath) -> None:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt not in KNOWN_FORMATS:
            self.formats.setdefault(fmt, (*at, "format"))
            self.format_uses[fmt] = self.format_uses.get(fmt, 0) + 1
        pattern = schema.get("pattern")
        if "pattern" in schema:
            why = problem(pattern) if isinstance(pattern, str) else "a pattern must be a string"
            if why is not None:
                del schema["pattern"]
                self.diagnostics.warn((*at, "pattern"), f"pattern {pattern!r}: {why}; ignored")
        properties = schema.get("patternProperties")
        if isinstance(properties, dict):
            for regex in [r for r in properties if problem(r) is not None]:
                del properties[regex]
                self.diagnostics.warn(
                    (*at, "patternProperties", regex), f"pattern {regex!r}: {problem(regex)}; ignored"
                )

    def nullable(self, schema: dict[str, Any], at: JsonPath) -> None:
        flag = schema.pop("nullable")
        if flag is True:
            repaired = nullable_schema(schema)
            schema.clear()
            schema.update(repaired)
            self.diagnostics.warn((*at, "nullable"), "nullable is OpenAPI 3.0, not 3.1; read as also allowing null")
        else:
            self.diagnostics.warn((*at, "nullable"), "nullable is OpenAPI 3.0, not 3.1; ignored")

    def ref(self, node: dict[str, Any], at: JsonPath, scopes: tuple[JsonPath, ...]) -> None:
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#") or _resolves(self.root, ref):
            return
        for scope in reversed(scopes):
            local = pointer(scope) + ref[1:]
            if ref.startswith("#/$defs/") and _resolves(self.root, local):
                node["$ref"] = local
                self.diagnostics.warn(
                    (*at, "$ref"), f"$ref {ref!r} read against the enclosing schema's $defs ({local})"
                )
                return
        del node["$ref"]
        self.diagnostics.warn((*at, "$ref"), f"$ref {ref!r} does not resolve; any value matches it")

    def report_formats(self) -> None:
        for fmt, at in self.formats.items():
            uses = self.format_uses[fmt]
            more = f" (and {uses - 1} more use{'s' if uses > 2 else ''})" if uses > 1 else ""
            self.diagnostics.warn(at, f"format {fmt!r} is not one specmock knows; not checked{more}")


def _resolves(root: Any, ref: str) -> bool:
    try:
        resolve_pointer(root, ref)
    except (KeyError, IndexError, ValueError, TypeError):
        return False
    return True


_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _query_templates(doc: Document, diagnostics: Diagnostics) -> None:
    """`/a?x={x}` served as `/a`, its `{x}` read from the query (renamed in place, lines kept)."""
    paths = doc.data.get("paths") if isinstance(doc.data, dict) else None
    if not isinstance(paths, dict) or not any(isinstance(t, str) and "?" in t for t in paths):
        return
    renamed: dict[Any, Any] = {}
    for template, item in paths.items():
        clean = template.split("?", 1)[0] or "/" if isinstance(template, str) else template
        if clean == template or clean in paths or clean in renamed or not isinstance(item, dict):
            renamed[template] = item
            continue
        names = set(re.findall(r"\{([^{}/]+)\}", template.split("?", 1)[1]))
        for params in [item.get("parameters"), *(op.get("parameters") for op in _operations(item))]:
            _to_query(doc.data, params, names)
        renamed[clean] = item
        for key in [k for k in doc.lines if k[:2] == ("paths", template)]:
            doc.lines[("paths", clean, *key[2:])] = doc.lines[key]
        diagnostics.warn(
            ("paths", template),
            f"a path template carries a query string; served as {clean}, {sorted(names)} read from the query",
        )
    paths.clear()
    paths.update(renamed)


def _operations(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for method, op in item.items() if method in _METHODS and isinstance(op, dict)]


def _to_query(root: Any, params: Any, names: set[str]) -> None:
    if not isinstance(params, list):
        return
    for index, param in enumerate(params):
        if isinstance(param, dict) and isinstance(param.get("$ref"), str) and _resolves(root, param["$ref"]):
            param = params[index] = dict(resolve_pointer(root, param["$ref"]))  # a copy: the component is shared
        if isinstance(param, dict) and param.get("in") == "path" and param.get("name") in names:
            params[index] = {**param, "in": "query"}


def _unique_operation_ids(doc: Document, diagnostics: Diagnostics) -> None:
    """An operationId used twice: the later operation is served as `ID_2` (`ID_3`, ...)."""
    paths = doc.data.get("paths") if isinstance(doc.data, dict) else None
    if not isinstance(paths, dict):
        return
    seen: set[Any] = set()
    for template, item in paths.items():
        for method, op in item.items() if isinstance(item, dict) else ():
            if method not in _METHODS or not isinstance(op, dict) or not op.get("operationId"):
                continue
            op_id = op["operationId"]
            if op_id in seen:
                number = 2
                while f"{op_id}_{number}" in seen:
                    number += 1
                op["operationId"] = f"{op_id}_{number}"
                diagnostics.warn(
                    ("paths", template, method, "operationId"),
                    f"operationId {op_id!r} is used twice; this one is served as {op['operationId']!r}",
                )
            seen.add(op["operationId"])


def repair(doc: Document, diagnostics: Diagnostics, version: OpenApiVersion) -> Document:
    """`doc` with every repairable problem repaired in place, one warning each in `diagnostics`."""
    _query_templates(doc, diagnostics)
    _unique_operation_ids(doc, diagnostics)
    repairer = _Repairer(doc, diagnostics, version)
    repairer.node(doc.data, ())
    repairer.report_formats()
    return doc
