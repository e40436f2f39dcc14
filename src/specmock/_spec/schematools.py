"""Helpers that prepare OpenAPI schemas once, at start-up.

Local `$ref`s are inlined so validators do no reference lookups per request
(a cycle keeps its `$ref` and the spec's components ride along in the root so
it still resolves). readOnly/writeOnly properties are compiled into path lists
compiled into stripper functions, so a request or a response is stripped of
them without walking schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote

FlagPath = tuple[str, ...]  # property names, "*" for every item of an array

_COMBINATORS = ("allOf", "oneOf", "anyOf")


def resolve_pointer(root: Any, ref: str) -> Any:
    """Follow a local JSON pointer such as ``#/components/schemas/Scan``. A pointer in a URI
    fragment is percent-encoded (RFC 6901, section 6): ``#/paths/~1a~1%7Bid%7D`` names `/a/{id}`."""
    if not ref.startswith("#"):
        raise KeyError(f"only local references are supported: {ref}")
    node = root
    for raw in ref[1:].split("/")[1:]:
        part = (unquote(raw) if "%" in raw else raw).replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def resolve_through_refs(root: Any, ref: str) -> Any:
    """`resolve_pointer`, stepping through a `$ref` met on the way (`#/paths/~1a/get/responses/200/
    content/...` where the response is `$ref: '#/components/responses/A'`), as a reader would."""
    if not ref.startswith("#"):
        raise KeyError(f"only local references are supported: {ref}")
    node = root
    for raw in ref[1:].split("/")[1:]:
        part = (unquote(raw) if "%" in raw else raw).replace("~1", "/").replace("~0", "~")
        for _ in range(32):
            if not (isinstance(node, dict) and part not in node and isinstance(node.get("$ref"), str)):
                break
            node = resolve_pointer(root, node["$ref"])
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


#: Nodes one inlined schema may copy (GitHub's largest: about 19,000).
MAX_INLINED_NODES = 25_000
#: References inlined one inside another (GitHub's schemas nest 21 levels in all).
MAX_INLINED_REFS = 32
#: Nodes all schemas inlined while compiling one document may copy (`document_budget`).
MAX_DOCUMENT_INLINED = 2_000_000

_document_budget: ContextVar[list[int] | None] = ContextVar("specmock_inlining_budget", default=None)


class ExpansionTooLarge(Exception):
    """Inlining would copy too much, and the `$ref` where it stopped cannot be left for the
    validator to resolve (it points outside `#/components/`)."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"$ref {ref!r} expands beyond {MAX_INLINED_NODES:,} nodes or {MAX_INLINED_REFS} levels")
        self.ref = ref


@contextmanager
def document_budget(nodes: int = MAX_DOCUMENT_INLINED) -> Iterator[None]:
    """Within the block, all `inline_refs` calls share `nodes` (compiling one document)."""
    token = _document_budget.set([nodes])
    try:
        yield
    finally:
        _document_budget.reset(token)


def inline_refs(schema: Any, root: Any) -> Any:
    """A copy of `schema` with every non-recursive local `$ref` replaced by its target.

    Inlining is an optimisation (no lookups per request), so it is bounded: a few KB of
    references that each name the next one twice would copy 2^n nodes (40 s and 1.2 GB
    for 2.5 KB). Past MAX_INLINED_NODES (or the document's budget), or MAX_INLINED_REFS
    references deep, a `#/components/...` reference is kept as it is, as a recursive one
    is: the validator resolves it when it meets it (validator_root carries the
    components), so validation means the same, in time bounded by the instance. Any other
    reference there raises ExpansionTooLarge."""
    shared = _document_budget.get()
    allowed = MAX_INLINED_NODES if shared is None else max(0, min(MAX_INLINED_NODES, shared[0]))
    budget = [allowed]
    try:
        return _inline(schema, root, (), budget)
    finally:
        if shared is not None:
            shared[0] -= allowed - budget[0]


def _inline(schema: Any, root: Any, stack: tuple[str, ...], budget: list[int]) -> Any:
    if isinstance(schema, list):
        budget[0] -= 1
        return [_inline(item, root, stack, budget) for item in schema]
    if not isinstance(schema, dict):
        return schema
    budget[0] -= 1
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        if ref in stack:
            return dict(schema)
        if budget[0] <= 0 or len(stack) >= MAX_INLINED_REFS:
            if ref.startswith("#/components/"):
                return dict(schema)
            raise ExpansionTooLarge(ref)
        target = _inline(resolve_pointer(root, ref), root, (*stack, ref), budget)
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        if not siblings:
            return target
        merged = {k: _inline(v, root, stack, budget) for k, v in siblings.items()}
        return {"allOf": [target], **merged}
    return {key: _inline(value, root, stack, budget) for key, value in schema.items()}


def validator_root(schema: Any, document: dict[str, Any]) -> dict[str, Any]:
    """A self-contained schema: inlined, with components for any recursive `$ref`."""
    inlined = inline_refs(schema, document)
    root: dict[str, Any] = {"allOf": [inlined]} if not isinstance(inlined, dict) else dict(inlined)
    if "components" in document and _has_ref(root):
        root["components"] = document["components"]
    return root


def _has_ref(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_has_ref(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_ref(v) for v in node)
    return False


def flagged_paths(schema: Any, flag: str, _prefix: FlagPath = (), _depth: int = 0) -> set[FlagPath]:
    """Every property path under `schema` whose schema sets `flag` (readOnly/writeOnly)."""
    found: set[FlagPath] = set()
    if not isinstance(schema, dict) or _depth > 32:
        return found
    for key in _COMBINATORS:
        for branch in schema.get(key, ()):
            found |= flagged_paths(branch, flag, _prefix, _depth + 1)
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and _is_flagged(sub, flag):
            found.add((*_prefix, name))
        else:
            found |= flagged_paths(sub, flag, (*_prefix, name), _depth + 1)
    items = schema.get("items")
    if isinstance(items, dict):
        found |= flagged_paths(items, flag, (*_prefix, "*"), _depth + 1)
    return found


def _is_flagged(schema: dict[str, Any], flag: str) -> bool:
    if schema.get(flag) is True:
        return True
    return any(isinstance(b, dict) and b.get(flag) is True for key in _COMBINATORS for b in schema.get(key, ()))


Stripper = Callable[[Any], Any]


def compile_stripper(paths: frozenset[FlagPath]) -> Stripper | None:
    """A function removing `paths` from a value (copying only what changes), or None if no path.

    Built once per collection: the request path then pays one set test per level
    instead of walking every path of every item.
    """
    if not paths:
        return None
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if node is None:
                break
        else:
            node[path[-1]] = None
    return _stripper(tree)


def _stripper(tree: dict[str, Any]) -> Stripper:
    leaves = frozenset(k for k, v in tree.items() if v is None and k != "*")
    branches = {k: _stripper(v) for k, v in tree.items() if v is not None and k != "*"}
    each = tree.get("*")
    each_fn = _stripper(each) if isinstance(each, dict) else None

    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [each_fn(v) for v in value] if each_fn is not None else value
        if not isinstance(value, dict):
            return value
        out = value
        if leaves and not leaves.isdisjoint(value):
            out = {k: v for k, v in value.items() if k not in leaves}
        return with_children(value, out, branches)

    return strip


def with_children(value: dict[str, Any], out: dict[str, Any], fns: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """`out` (`value` itself, or already a copy of it) with each named child replaced by its
    function's result; `value` is copied only on the first child that changes, so a value
    nothing changes comes back as itself (the stripping and projecting closures rely on it)."""
    for name, fn in fns.items():
        child = out.get(name)
        if child is not None:
            changed = fn(child)
            if changed is not child:
                if out is value:
                    out = dict(value)
                out[name] = changed
    return out
