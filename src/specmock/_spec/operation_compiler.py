"""Compiling one operation of a document: its action, parameters, body, responses and security.

Everything a request to the operation needs is prepared here, once (validators,
strippers, the authenticator, the example it answers). Invariants: a problem of the
document's OpenAPI part (a parameter, a body schema, no 2xx response, an unknown
security scheme) raises Unservable, so the lenient load can leave the operation out; a
problem of its `x-specmock` raises a LoadError, which always refuses the load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .auth import Authenticator, SecurityScheme
from .collection_compiler import scope_depth
from .diagnostics import Unservable
from .error_bodies import ErrorBodyCompiler
from .examples import compile_example, example_collection, json_body_schema, response_media_type
from .extension_check import check_extension
from .extension_schema import OPERATION_SCHEMA
from .fastvalidation import BodyValidator
from .item_rules import branch_consts_of, envelope_fill, open_field_checks, partial_objects, reshaped_field_checks
from .model import Action, Collection, Family, Filter, Operation
from .readonly import request_schema
from .routing_trie import template_params
from .schematools import Stripper, compile_stripper, flagged_paths, inline_refs, resolve_pointer
from .templates import template_errors
from .undeclared import compile_projector, then
from .validation import CompiledSchema, InvalidSchema, ParameterSet, compile_validator, make_parameter
from .yaml_lines import Document, JsonPath

#: Actions whose success answers the documented example (or data from its schema): an example
#: operation always, a delete when its success declares a body (`{"deleted": true}`, the item).
_CANNED = (Action.EXAMPLE, Action.DELETE)


def compile_operation(
    doc: Document,
    family: Family,
    schemes: dict[str, SecurityScheme],
    template: str,
    method: str,
    item: dict[str, Any],
    at: JsonPath,
    error_bodies: ErrorBodyCompiler,
) -> Operation:
    """The operation `item[method]` declares at `template`, compiled for the request path.
    The checks run in the order a reader meets them in the declaration (the first is reported)."""
    raw = item[method]
    op_id, ext, action, collection = _declaration(doc, family, template, raw, at)
    params = _parameters(doc, item, raw, at)
    in_template = _template_params(doc, template, params, at, op_id)
    id_param, scope_params, id_in_body = _item_binding(doc, family, collection, ext, action, in_template, at, op_id)
    responses = raw.get("responses") or {}
    success = _success_statuses(doc, ext, responses, at, op_id)
    body = _request_body(doc, raw, ext, action, at, op_id)
    return Operation(
        family=family,
        operation_id=op_id,
        method=method.upper(),
        path=family.prefix + template,
        action=action,
        collection=collection,
        success_status=success[0],
        body_validator=body.validator,
        body_required=body.required,
        strip_read_only=body.read_only,
        undeclared=open_field_checks(doc.data, collection, body.schema, action),
        reshaped=reshaped_field_checks(doc.data, collection, body.schema, action),
        partial_objects=partial_objects(collection, body.schema, action),
        branch_consts=branch_consts_of(doc.data, collection, responses, success[0]) if action is Action.CREATE else {},
        merged_validator=_merged_validator(doc, ext, op_id, action, (*at, "x-specmock", "mergedSchema")),
        authenticator=_authenticator(doc, raw, schemes, at, op_id),
        set_fields=_checked_templates(doc, ext, "set", at, op_id),
        fill_fields=_checked_fill(doc, ext, action, at, op_id),
        filters=_filters(doc, ext, params, at, op_id),
        path_params=_param_set(doc, "path", params, at),
        query_params=_param_set(doc, "query", params, at),
        header_params=_param_set(doc, "header", params, at),
        error_bodies=error_bodies.operation(op_id, responses, at),
        id_param=id_param,
        id_in_body=id_in_body,
        upsert=bool(ext.get("upsert")),
        created_status=201 if "201" in responses else success[0],
        counts=tuple(ext.get("counts", ())),
        envelope_fill=envelope_fill(doc.data, ext, responses, success[0]),
        scope_params=scope_params,
        keep=tuple(ext.get("keep", ())),
        match=ext.get("match", {}),
        reorder=ext.get("reorder"),
        exclusive=tuple(ext.get("exclusive", ())),
        wrap=ext.get("wrap"),
        envelope=ext.get("envelope"),
        paging=ext.get("paging", "none"),
        responses=responses,
        example=compile_example(doc.data, responses, success[0]) if action in _CANNED else None,
        media_type=response_media_type(doc.data, responses, success[0]),
    )


def _declaration(
    doc: Document, family: Family, template: str, raw: dict[str, Any], at: JsonPath
) -> tuple[str, dict[str, Any], Action, Collection]:
    """The operation's id, its checked `x-specmock`, its action and the collection it acts on."""
    op_id = raw.get("operationId")
    if not op_id:
        raise doc.error(at, "every operation needs an operationId")
    ext = raw.get("x-specmock")
    if ext is None:
        raise doc.error(at, f"{op_id}: no x-specmock says what this operation does")
    check_extension(doc, (*at, "x-specmock"), ext, OPERATION_SCHEMA, f"x-specmock of {op_id}")
    action = Action(ext["action"])
    collection = family.collections.get(ext.get("collection", "")) or (
        example_collection(family, template) if action is Action.EXAMPLE else None
    )
    if collection is None:
        raise doc.error((*at, "x-specmock", "collection"), f"{op_id}: unknown collection {ext['collection']!r}")
    return op_id, ext, action, collection


def _template_params(doc: Document, template: str, params: list[dict[str, Any]], at: JsonPath, op_id: str) -> list[str]:
    """The template's parameter names, checked to be exactly the declared path parameters."""
    path_names = [p["name"] for p in params if p["in"] == "path"]
    in_template = template_params(template)
    if sorted(path_names) != sorted(in_template):
        raise Unservable(
            doc.path, doc.line_of(at), f"{op_id}: path parameters {path_names} do not match the template {template}"
        )
    return in_template


def _item_binding(
    doc: Document,
    family: Family,
    collection: Collection,
    ext: dict[str, Any],
    action: Action,
    in_template: list[str],
    at: JsonPath,
    op_id: str,
) -> tuple[str | None, tuple[str, ...], bool]:
    """Which path parameter names the item (if any), which scope it, and whether the body
    names the item instead (`PUT /pet`); the scope must reach the collection's depth."""
    id_param: str | None = None
    scope_params = tuple(in_template)
    id_in_body = bool(ext.get("idInBody"))
    if id_in_body and not action.needs_id:
        raise doc.error((*at, "x-specmock", "idInBody"), f"{op_id}: action {action.value!r} names no item")
    if action is Action.EXAMPLE and "idParam" in ext and ext.get("collection") in family.collections:
        id_param = ext["idParam"]  # an example under an item: answered while the item exists
        scope_params = _example_item_scope(doc, family, collection, id_param, in_template, at, op_id)
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
    return id_param, scope_params, id_in_body


def _example_item_scope(
    doc: Document,
    family: Family,
    collection: Collection,
    id_param: str,
    in_template: list[str],
    at: JsonPath,
    op_id: str,
) -> tuple[str, ...]:
    """The scope of an example operation under an item: the parameters before its `idParam`."""
    if id_param not in in_template:
        raise doc.error((*at, "x-specmock", "idParam"), f"{op_id}: idParam {id_param!r} is not in the path")
    scope_params = tuple(in_template[: in_template.index(id_param)])
    if len(scope_params) != scope_depth(family, collection):
        raise doc.error((*at, "x-specmock"), f"{op_id}: the path does not lead to a {collection.name!r} item")
    return scope_params


def _success_statuses(
    doc: Document, ext: dict[str, Any], responses: dict[str, Any], at: JsonPath, op_id: str
) -> list[int]:
    """The 2xx statuses the operation declares, lowest first (or the one `x-specmock` names)."""
    success = sorted(int(code) for code in responses if str(code).isdigit() and 200 <= int(code) < 300)
    if "status" in ext:
        success = [ext["status"]]
    if not success:
        raise Unservable(doc.path, doc.line_of((*at, "responses")), f"{op_id}: no 2xx response is declared")
    return success


@dataclass(frozen=True)
class _RequestBody:
    """What the request path needs of the operation's request body (all None/False without one)."""

    validator: BodyValidator | None = None
    required: bool = False
    read_only: Stripper | None = None
    schema: dict[str, Any] | None = None


def _request_body(
    doc: Document, raw: dict[str, Any], ext: dict[str, Any], action: Action, at: JsonPath, op_id: str
) -> _RequestBody:
    """The body's validator, whether it is required, and what is dropped from it before it is
    stored (readOnly fields; undeclared ones under `undeclaredFields: ignore`)."""
    body = raw.get("requestBody")
    if body is None:
        return _RequestBody()
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
    read_only = compile_stripper(frozenset(flagged_paths(schema, "readOnly")))
    undeclared = ext.get("undeclaredFields", doc.data["x-specmock"].get("undeclaredFields", "keep"))
    if undeclared == "ignore" and schema is not None:
        read_only = then(compile_projector(schema), read_only)
    return _RequestBody(body_validator, bool(body.get("required")), read_only, schema)


def _authenticator(
    doc: Document, raw: dict[str, Any], schemes: dict[str, SecurityScheme], at: JsonPath, op_id: str
) -> Authenticator:
    """The operation's security requirements (else the document's), each naming known schemes."""
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
    return Authenticator(tuple(alternatives))


def _checked_templates(doc: Document, ext: dict[str, Any], key: str, at: JsonPath, op_id: str) -> dict[str, Any]:
    """`x-specmock.<key>` (`set`, `fill`), its templates checked to render."""
    templates: dict[str, Any] = ext.get(key, {})
    problems = template_errors(templates)
    if problems:
        raise doc.error((*at, "x-specmock", key), f"{op_id}: {problems[0]}")
    return templates


def _checked_fill(doc: Document, ext: dict[str, Any], action: Action, at: JsonPath, op_id: str) -> dict[str, Any]:
    """`x-specmock.fill`: what a create fills where the body is silent (a create's alone)."""
    fill = _checked_templates(doc, ext, "fill", at, op_id)
    if "fill" in ext and action != "create":
        raise doc.error((*at, "x-specmock", "fill"), f"{op_id}: fill applies to action 'create' only")
    return fill


def _filters(
    doc: Document, ext: dict[str, Any], params: list[dict[str, Any]], at: JsonPath, op_id: str
) -> tuple[Filter, ...]:
    """The list filters `x-specmock.filters` declares, each on a declared query parameter."""
    filters = tuple(
        Filter(param=name, field=f["field"], match=f.get("match", "eq"))
        for name, f in (ext.get("filters") or {}).items()
    )
    query_names = {p["name"] for p in params if p["in"] == "query"}
    for f in filters:
        if f.param not in query_names:
            raise doc.error((*at, "x-specmock", "filters"), f"{op_id}: filter {f.param!r} is not a query parameter")
    return filters


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
