"""A budget for what `$ref`s expand to, checked before anything expands them.

Validators are compiled from schemas with every local `$ref` inlined
(schematools.inline_refs). A few kilobytes of references that each name the
next one twice (`A: {allOf: [B, B]}`, `B: {allOf: [C, C]}`, ...) expand to 2^n
nodes: 40 s and 1.2 GB for 2.5 KB. Here each reference target's expanded size
and depth are measured once (memoised by pointer, a reference already being
measured counts as one node, as inlining keeps a recursive `$ref`), so the
check is linear in the document, and a document over the budget is refused
with the line of the reference that crosses it.
Invariant: after `check_ref_budget`, inlining any schema of the document copies
at most MAX_EXPANDED_NODES nodes, nests at most MAX_EXPANDED_DEPTH levels, and
the whole document's references expand to at most MAX_TOTAL_NODES.
"""

from __future__ import annotations

from typing import Any

from .schematools import resolve_pointer
from .yamlload import Document, JsonPath

#: Nodes one inlined schema may hold (GitHub's largest: 18,755).
MAX_EXPANDED_NODES = 200_000
#: Nodes all inlined references of a document may hold together (GitHub's: 2.4 million).
MAX_TOTAL_NODES = 10_000_000
#: Levels an inlined schema may nest (the request path's validators recurse per level).
MAX_EXPANDED_DEPTH = 128


class _OverBudget(Exception):
    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(reason)
        self.ref = ref
        self.reason = reason


class _Measure:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.sizes: dict[str, tuple[int, int]] = {}  # pointer -> (expanded nodes, expanded depth)
        self.active: list[str] = []
        self.total = 0

    def node(self, value: Any, level: int) -> tuple[int, int]:
        """(expanded nodes, expanded depth) of `value`, `level` levels into the document and its expansions."""
        if isinstance(value, dict):
            ref = value.get("$ref")
            size, depth = 1, 0
            if isinstance(ref, str) and ref.startswith("#"):
                size, depth = self.ref(ref, level)
                self.total += size
                if self.total > MAX_TOTAL_NODES:
                    raise _OverBudget(ref, f"the document's $refs expand to more than {MAX_TOTAL_NODES:,} nodes")
            for key, sub in value.items():
                if key != "$ref" and isinstance(sub, (dict, list)):
                    sub_size, sub_depth = self.node(sub, level + 1)
                    size, depth = size + sub_size, max(depth, sub_depth + 1)
                else:
                    size += 1
            return size, depth
        size, depth = 1, 0
        for sub in value:
            if isinstance(sub, (dict, list)):
                sub_size, sub_depth = self.node(sub, level + 1)
                size, depth = size + sub_size, max(depth, sub_depth + 1)
            else:
                size += 1
        return size, depth

    def ref(self, ref: str, level: int) -> tuple[int, int]:
        if ref in self.sizes:
            size, depth = self.sizes[ref]
        elif ref in self.active:
            return 1, 0
        else:
            try:
                target = resolve_pointer(self.root, ref)
            except (KeyError, IndexError, ValueError, TypeError):
                return 1, 0  # reported by the repairs, which run first
            if not isinstance(target, (dict, list)):
                return 1, 0
            if level > MAX_EXPANDED_DEPTH or len(self.active) > MAX_EXPANDED_DEPTH:
                raise _OverBudget(ref, f"$ref {ref!r}: references nest more than {MAX_EXPANDED_DEPTH} levels deep")
            self.active.append(ref)
            try:
                size, depth = self.node(target, level)
            finally:
                self.active.pop()
            self.sizes[ref] = (size, depth)
        if size > MAX_EXPANDED_NODES:
            raise _OverBudget(ref, f"$ref {ref!r} expands to more than {MAX_EXPANDED_NODES:,} nodes")
        if level + depth > MAX_EXPANDED_DEPTH:
            raise _OverBudget(ref, f"$ref {ref!r}: references nest more than {MAX_EXPANDED_DEPTH} levels deep")
        return size, depth


def _path(ref: str) -> JsonPath:
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[1:].split("/")[1:])


def check_ref_budget(doc: Document) -> None:
    """Refuse `doc` (a LoadError with the line of the reference) when its `$ref`s expand beyond budget."""
    if not isinstance(doc.data, (dict, list)):
        return
    try:
        _Measure(doc.data).node(doc.data, 0)
    except _OverBudget as over:
        raise doc.error(_path(over.ref), f"{over.reason}; refused (references that multiply or nest)") from None
