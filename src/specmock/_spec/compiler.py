"""Compile an OpenAPI document and its `x-specmock` extension into a Family.

Everything the request path needs is prepared here, once: parameter and body
validators, authenticators, the collections' rules and each operation's
action. Any inconsistency is a LoadError naming the file and line; with
Diagnostics (the lenient load), an operation the OpenAPI part of the document
makes unservable (an Unservable error: a broken schema, no 2xx response, a
route declared twice) is left out with a warning instead, the rest served. A
mistake in `x-specmock` (the author's own declarations) still refuses the load.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._errors import LoadError
from .auth import Authenticator, SecurityScheme
from .diagnostics import Diagnostics
from .error_bodies import ErrorBodyCompiler
from .error_styles import ErrorStyle
from .examples import compile_example, example_collection, json_body_schema, response_media_type
from .extension_schema import COLLECTION_SCHEMA, FAMILY_SCHEMA, OPERATION_SCHEMA
from .fastvalidation import BodyValidator
from .item_rules import branch_consts_of, envelope_fill, open_field_checks, reshaped_field_checks
from .lifecycle import Lifecycle, compile_lifecycle
from .model import Action, Collection, Family, Filter, Operation, Reference, UniqueRule
from .readonly import compile_filler, generated_defaults, request_schema
from .regex_sample import sample_pattern
from .routing_trie import template_params
from .schema_check import check_document
from .schematools import (
    ExpansionTooLarge,
    Stripper,
    compile_stripper,
    document_budget,
    flagged_paths,
    inline_refs,
    resolve_pointer,
    resolve_through_refs,
)
from .templates import template_errors
from .undeclared import compile_projector, then
from .validation import CompiledSchema, InvalidSchema, ParameterSet, compile_validator, locate, make_parameter
from .variants import item_variants
from .yamlload import Document, JsonPath, load_yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class Unservable(LoadError):
    """The document's OpenAPI part makes this one operation unservable (its own schema,
    parameters or responses); the lenient load leaves the operation out."""


#: Actions whose success answers the documented example (or data from its schema): an example
#: operation always, a delete when its success declares a body (`{"deleted": true}`, the item).
_CANNED = (Action.EXAMPLE, Action.DELETE)


def _route_key(template: str, method: str) -> tuple[str, str]:
    """One route per method and shape: `/a/` is `/a`, `/a/{id}` is `/a/{petId}` (the router's reading)."""
    return (method, re.sub(r"\{[^/}]*\}", "{}", template.rstrip("/") or "/"))


def load_family(path: Path | str) -> Family:
    """Load and compile one spec file."""
    return compile_family(load_yaml(path))


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


def _check(doc: Document, at: JsonPath, value: Any, schema: dict[str, Any], what: str) -> None:
    if _surely_valid(value, schema):
        return
    from jsonschema import Draft202012Validator  # words what jsonschema-rs did not vouch for

    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        path, message = locate(errors[0])
        where = (*at, *path)
        raise doc.error(where, f"invalid {what} at '{'.'.join(map(str, where))}': {message}")


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
    _check(doc, ("x-specmock",), ext, FAMILY_SCHEMA, "x-specmock")

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
        family.collections[name] = _collection(doc, name, raw)
        family.collections[name].family = family.name
    _link_collections(doc, family)

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
                    op = _operation(doc, family, schemes, path_template, method, item, at, error_bodies)
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
    if not family.operations:
        if diagnostics is None:
            raise doc.error(("paths",), "the spec declares no operations")
        diagnostics.warn(("paths",), "no operation can be served; every request answers 404")
    if diagnostics is not None:
        family.left_out = list(diagnostics.left_out)
        family.warnings = list(diagnostics.lines)
    error_bodies.finish()
    return family


def _prefix(doc: Document) -> str:
    servers = doc.data.get("servers") or [{"url": "/"}]
    server = servers[0]
    url = str(server.get("url", "/"))
    for name, var in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(var.get("default", "")))
    return urlsplit(url).path.rstrip("/")


def _collection(doc: Document, name: str, raw: dict[str, Any]) -> Collection:
    at: JsonPath = ("x-specmock", "collections", name)
    _check(doc, at, raw, COLLECTION_SCHEMA, f"collection {name!r}")
    id_spec = raw.get("id", {"style": "integer"})
    schema: dict[str, Any] = {}
    if "schema" in raw:
        try:
            target = resolve_through_refs(doc.data, raw["schema"])
        except (KeyError, IndexError, ValueError):
            raise doc.error((*at, "schema"), f"schema {raw['schema']!r} does not exist") from None
        try:
            schema = inline_refs(target, doc.data)
        except ExpansionTooLarge as too_large:
            raise doc.error((*at, "schema"), f"collection {name!r}: {too_large}") from None
    timestamps = raw.get("timestamps", {})
    lifecycle = _lifecycle(doc, (*at, "lifecycle"), raw["lifecycle"], schema) if "lifecycle" in raw else None
    return Collection(
        name=name,
        label=raw.get("label", name),
        id_style=id_spec["style"],
        id_prefix=id_spec.get("prefix", ""),
        id_width=id_spec.get("width", 0),
        id_field=id_spec.get("field", "id"),
        key_field=raw.get("key", id_spec.get("field", "id")),
        id_pattern=_id_pattern(doc, (*at, "id"), id_spec),
        client_chosen_id=id_spec.get("clientChosen", False),
        schema=schema,
        variants=item_variants(schema) if any(k in schema for k in ("allOf", "oneOf", "anyOf")) else (),
        scope=raw.get("scope", {}),
        parent=raw.get("parent"),
        created_field=timestamps.get("created"),
        updated_field=timestamps.get("updated"),
        defaults=raw.get("defaults", {}),
        unique=[
            UniqueRule(
                fields=tuple(u["fields"]),
                when=u.get("when", {}),
                message=u.get("message", f"{raw.get('label', name)} already exists."),
            )
            for u in raw.get("unique", [])
        ],
        references=[
            Reference(
                field=r["field"],
                collection=r["collection"],
                status=r.get("status", 404),
                message=r.get("message", "{label} {value} not found."),
                expand=r.get("expand"),
            )
            for r in raw.get("references", [])
        ],
        embed={f: e["collection"] for f, e in raw.get("embed", {}).items()},
        children=[(c["collection"], c["item"]) for c in raw.get("children", [])],
        aliases=raw.get("aliases", {}),
        touch_parent=raw.get("touchParent", False),
        fixtures=raw.get("fixtures", []),
        write_only=frozenset(flagged_paths(schema, "writeOnly")),
        strip_write_only=compile_stripper(frozenset(flagged_paths(schema, "writeOnly"))),
        fill_generated=compile_filler(generated_defaults(schema)),
        lifecycle=lifecycle,
    )


def _id_pattern(doc: Document, at: JsonPath, id_spec: dict[str, Any]) -> str:
    """The regular expression of a `pattern` id, checked to be one ids can be drawn from."""
    if id_spec["style"] != "pattern":
        return ""
    pattern = id_spec.get("pattern")
    if not isinstance(pattern, str):
        raise doc.error(at, "id style 'pattern' needs a 'pattern'")
    try:
        sample_pattern(pattern, random.Random(0))
    except ValueError as exc:
        raise doc.error((*at, "pattern"), f"cannot draw ids from pattern {pattern!r}: {exc}") from None
    return pattern


def _lifecycle(doc: Document, at: JsonPath, raw: Any, schema: dict[str, Any]) -> Lifecycle:
    field = raw.get("field") if isinstance(raw, dict) else None
    enum = (schema.get("properties", {}).get(field) or {}).get("enum") if isinstance(field, str) else None
    lifecycle, errors = compile_lifecycle(raw, enum)
    if errors:
        path, reason = errors[0]
        raise doc.error((*at, *path), f"invalid lifecycle: {reason}")
    assert lifecycle is not None
    return lifecycle


def _link_collections(doc: Document, family: Family) -> None:
    base: JsonPath = ("x-specmock", "collections")
    names = family.collections
    for coll in names.values():
        at = (*base, coll.name)
        for target, key in (
            [(coll.parent, "parent")]
            + [(r.collection, "references") for r in coll.references]
            + [(c, "embed") for c in coll.embed.values()]
            + [(c, "children") for c, _ in coll.children]
        ):
            if target is not None and target not in names:
                raise doc.error((*at, key), f"collection {coll.name!r} names unknown collection {target!r}")
        if coll.parent:
            names[coll.parent].child_names.append(coll.name)
    for coll in names.values():
        for child in [*coll.embed.values(), *(c for c, _ in coll.children)]:
            if names[child].parent != coll.name:
                raise doc.error(
                    (*base, coll.name), f"collection {child!r} must declare parent: {coll.name} to be embedded"
                )


def _parameters(doc: Document, item: dict[str, Any], op: dict[str, Any], at: JsonPath) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for source in (item.get("parameters") or [], op.get("parameters") or []):
        for raw in source:
            resolved = inline_refs(raw, doc.data)
            if not isinstance(resolved, dict) or "name" not in resolved or "in" not in resolved:
                raise Unservable(doc.path, doc.line_of(at), "a parameter needs 'name' and 'in'")
            merged[(resolved["name"], resolved["in"])] = resolved
    return list(merged.values())


def _param_set(doc: Document, location: str, params: list[dict[str, Any]], at: JsonPath) -> ParameterSet:
    compiled = [make_parameter(p, p.get("schema") or {}) for p in params if p["in"] == location]
    try:
        return ParameterSet(location, compiled, doc.data)
    except InvalidSchema as exc:
        raise Unservable(doc.path, doc.line_of(at), f"invalid {location} parameter schema: {exc.message}") from None


def _operation(
    doc: Document,
    family: Family,
    schemes: dict[str, SecurityScheme],
    template: str,
    method: str,
    item: dict[str, Any],
    at: JsonPath,
    error_bodies: ErrorBodyCompiler,
) -> Operation:
    raw = item[method]
    op_id = raw.get("operationId")
    if not op_id:
        raise doc.error(at, "every operation needs an operationId")
    ext = raw.get("x-specmock")
    if ext is None:
        raise doc.error(at, f"{op_id}: no x-specmock says what this operation does")
    _check(doc, (*at, "x-specmock"), ext, OPERATION_SCHEMA, f"x-specmock of {op_id}")
    action = Action(ext["action"])
    collection = family.collections.get(ext.get("collection", "")) or (
        example_collection(family, template) if action is Action.EXAMPLE else None
    )
    if collection is None:
        raise doc.error((*at, "x-specmock", "collection"), f"{op_id}: unknown collection {ext['collection']!r}")

    params = _parameters(doc, item, raw, at)
    path_names = [p["name"] for p in params if p["in"] == "path"]
    in_template = template_params(template)
    if sorted(path_names) != sorted(in_template):
        raise Unservable(
            doc.path, doc.line_of(at), f"{op_id}: path parameters {path_names} do not match the template {template}"
        )

    id_param: str | None = None
    scope_params = tuple(in_template)
    id_in_body = bool(ext.get("idInBody"))
    if id_in_body and not action.needs_id:
        raise doc.error((*at, "x-specmock", "idInBody"), f"{op_id}: action {action.value!r} names no item")
    if action is Action.EXAMPLE and "idParam" in ext and ext.get("collection") in family.collections:
        id_param = ext["idParam"]  # an example under an item: answered while the item exists
        if id_param not in in_template:
            raise doc.error((*at, "x-specmock", "idParam"), f"{op_id}: idParam {id_param!r} is not in the path")
        scope_params = tuple(in_template[: in_template.index(id_param)])
        if len(scope_params) != scope_depth(family, collection):
            raise doc.error((*at, "x-specmock"), f"{op_id}: the path does not lead to a {collection.name!r} item")
    if action.needs_id and not id_in_body:
        id_param = ext.get("idParam") or (in_template[-1] if in_template else None)
        if id_param not in in_template:
            raise doc.error((*at, "x-specmock"), f"{op_id}: action {action.value!r} needs a path parameter for the id")
        scope_params = tuple(p for p in in_template if p != id_param)
    expected = scope_depth(family, collection)
    if action is not Action.EXAMPLE and len(scope_params) != expected:
        raise doc.error(
            (*at, "x-specmock"),
            f"{op_id}: collection {collection.name!r} is scoped by {expected} path parameter(s), "
            f"the path gives {len(scope_params)}",
        )

    responses = raw.get("responses") or {}
    success = sorted(int(code) for code in responses if str(code).isdigit() and 200 <= int(code) < 300)
    if "status" in ext:
        success = [ext["status"]]
    if not success:
        raise Unservable(doc.path, doc.line_of((*at, "responses")), f"{op_id}: no 2xx response is declared")

    body_validator = None
    body_required = False
    read_only: Stripper | None = None
    body = raw.get("requestBody")
    if body is not None:
        body = inline_refs(body, doc.data)
        schema = json_body_schema(body)
        if schema is None and action is not Action.EXAMPLE:
            raise Unservable(
                doc.path, doc.line_of((*at, "requestBody")), f"{op_id}: only application/json bodies are supported"
            )
        try:
            validator = compile_validator(request_schema(schema), doc.data) if schema is not None else None
            body_validator = BodyValidator(validator) if validator is not None else None
        except InvalidSchema as exc:
            raise Unservable(
                doc.path, doc.line_of((*at, "requestBody")), f"{op_id}: invalid body schema: {exc.message}"
            ) from None
        body_required = bool(body.get("required"))
        read_only = compile_stripper(frozenset(flagged_paths(schema, "readOnly")))
        undeclared = ext.get("undeclaredFields", doc.data["x-specmock"].get("undeclaredFields", "keep"))
        if undeclared == "ignore" and schema is not None:
            read_only = then(compile_projector(schema), read_only)

    open_fields = open_field_checks(doc.data, collection, schema if body is not None else None, action)
    reshaped = reshaped_field_checks(doc.data, collection, schema if body is not None else None, action)
    branch_consts = branch_consts_of(doc.data, collection, responses, success[0]) if action is Action.CREATE else {}
    merged_validator = _merged_validator(doc, ext, op_id, action, (*at, "x-specmock", "mergedSchema"))

    security = raw.get("security", doc.data.get("security", []))
    alternatives = []
    for requirement in security or []:
        names = list(requirement)
        unknown = [n for n in names if n not in schemes]
        if unknown:
            raise Unservable(
                doc.path, doc.line_of((*at, "security")), f"{op_id}: unknown security scheme {unknown[0]!r}"
            )
        alternatives.append(tuple(schemes[n] for n in names))
    if any(len(a) == 0 for a in alternatives):
        alternatives = []  # `{}` in the list makes authentication optional

    for key in ("set", "fill"):
        template_problems = template_errors(ext.get(key, {}))
        if template_problems:
            raise doc.error((*at, "x-specmock", key), f"{op_id}: {template_problems[0]}")
    if "fill" in ext and action != "create":
        raise doc.error((*at, "x-specmock", "fill"), f"{op_id}: fill applies to action 'create' only")
    filters = tuple(
        Filter(param=name, field=f["field"], match=f.get("match", "eq"))
        for name, f in (ext.get("filters") or {}).items()
    )
    query_names = {p["name"] for p in params if p["in"] == "query"}
    for f in filters:
        if f.param not in query_names:
            raise doc.error((*at, "x-specmock", "filters"), f"{op_id}: filter {f.param!r} is not a query parameter")

    return Operation(
        family=family,
        operation_id=op_id,
        method=method.upper(),
        path=family.prefix + template,
        action=action,
        collection=collection,
        success_status=success[0],
        authenticator=Authenticator(tuple(alternatives)),
        path_params=_param_set(doc, "path", params, at),
        query_params=_param_set(doc, "query", params, at),
        header_params=_param_set(doc, "header", params, at),
        body_validator=body_validator,
        body_required=body_required,
        error_bodies=error_bodies.operation(op_id, responses, at),
        strip_read_only=read_only,
        merged_validator=merged_validator,
        id_param=id_param,
        id_in_body=id_in_body,
        upsert=bool(ext.get("upsert")),
        created_status=201 if "201" in responses else success[0],
        counts=tuple(ext.get("counts", ())),
        branch_consts=branch_consts,
        envelope_fill=envelope_fill(doc.data, ext, responses, success[0]),
        undeclared=open_fields,
        reshaped=reshaped,
        scope_params=scope_params,
        set_fields=ext.get("set", {}),
        fill_fields=ext.get("fill", {}),
        keep=tuple(ext.get("keep", ())),
        match=ext.get("match", {}),
        reorder=ext.get("reorder"),
        exclusive=tuple(ext.get("exclusive", ())),
        wrap=ext.get("wrap"),
        envelope=ext.get("envelope"),
        paging=ext.get("paging", "none"),
        filters=filters,
        responses=responses,
        example=compile_example(doc.data, responses, success[0]) if action in _CANNED else None,
        media_type=response_media_type(doc.data, responses, success[0]),
    )


def _merged_validator(
    doc: Document, ext: dict[str, Any], op_id: str, action: str, at: JsonPath
) -> CompiledSchema | None:
    ref = ext.get("mergedSchema")
    if ref is None:
        return None
    if action != "update":
        raise doc.error(at, f"{op_id}: mergedSchema applies to action 'update' only")
    try:
        resolve_pointer(doc.data, ref)
    except (KeyError, IndexError, ValueError):
        raise doc.error(at, f"{op_id}: mergedSchema {ref!r} does not resolve") from None
    try:
        return compile_validator({"$ref": ref}, doc.data)
    except InvalidSchema as exc:
        raise doc.error(at, f"{op_id}: invalid mergedSchema: {exc.message}") from None


def scope_depth(family: Family, collection: Collection) -> int:
    """How many path values scope an item of `collection` (its parents' included)."""
    depth = 0
    current: Collection | None = collection
    while current is not None:
        depth += len(current.scope) if current.parent is None else 1
        current = family.collections.get(current.parent) if current.parent else None
    return depth


def check_unique_families(families: list[Family]) -> None:
    """Two specs may not claim the same family name (the router refuses a shared method and path)."""
    names: dict[str, Path] = {}
    for fam in families:
        if fam.name in names:
            raise LoadError(fam.source, None, f"family {fam.name!r} is also defined by {names[fam.name]}")
        names[fam.name] = fam.source
