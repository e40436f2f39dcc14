"""Match a request path to an operation: static paths by dict, the rest by a segment trie.

Paths are matched on the raw (still percent-encoded) path, one segment per
parameter, and parameter values are decoded afterwards, so an id holding an
encoded slash stays one id instead of turning into another route. A trailing
slash is optional, as clients of Django-style APIs often leave it off.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from .._spec.model import CompiledPath, Family, Operation
from .._spec.routing_trie import SegmentTrie, segment_parts


@dataclass(frozen=True)
class Match:
    """The outcome of routing: an operation, or the family whose error format applies."""

    family: Family
    operation: Operation | None
    path_values: dict[str, str]
    allowed: tuple[str, ...] = ()  # methods the path supports, when the method did not match


def _canonical(path: str) -> str:
    return path.rstrip("/") or "/"


def _compile(template: str, family: Family, methods: dict[str, Operation]) -> CompiledPath:
    names = [name for segment in _canonical(template).split("/")[1:] for _, name in segment_parts(segment) if name]
    return CompiledPath(
        template=template,
        param_names=tuple(names),
        methods=methods,
        family=family,
    )


class Router:
    """All families' operations, compiled once."""

    def __init__(self, families: list[Family]) -> None:
        self.families = sorted(families, key=lambda f: len(f.prefix), reverse=True)
        by_path: dict[str, tuple[Family, dict[str, Operation]]] = {}
        for family in families:
            for op in family.operations:
                _fam, methods = by_path.setdefault(_canonical(op.path), (family, {}))
                if op.method in methods:
                    other = methods[op.method]
                    raise ValueError(
                        f"{op.method} {op.path} is declared by both {other.qualified_id} and {op.qualified_id}"
                    )
                methods[op.method] = op
        self._static: dict[str, CompiledPath] = {}
        dynamic: list[CompiledPath] = []
        for key, (family, methods) in by_path.items():
            template = next(iter(methods.values())).path
            compiled = _compile(template, family, methods)
            if compiled.param_names:
                dynamic.append(compiled)
            else:
                self._static[key] = compiled
        # Literal segments beat parameters: /versions/latest/publish before /versions/{v}.
        dynamic.sort(key=lambda c: (-c.template.count("/"), len(c.param_names)))
        self._dynamic: SegmentTrie[CompiledPath] = SegmentTrie()
        for compiled in dynamic:
            self._dynamic.insert(compiled.template, compiled)

    def family_for(self, path: str) -> Family:
        """The family whose prefix is the longest match for `path` (for error formats)."""
        for family in self.families:
            if not family.prefix or path == family.prefix or path.startswith(family.prefix + "/"):
                return family
        return self.families[-1]

    def match(self, method: str, raw_path: str) -> Match:
        lookup = "GET" if method == "HEAD" else method
        compiled = self._static.get(_canonical(raw_path))
        values: dict[str, str] = {}
        if compiled is None:
            found = self._dynamic.match(raw_path)
            if found is not None:
                compiled, raw_values = found
                values = {name: unquote(raw) for name, raw in zip(compiled.param_names, raw_values, strict=True)}
        if compiled is None:
            return Match(self.family_for(unquote(raw_path)), None, {})
        op = compiled.methods.get(lookup)
        if op is None:
            allowed = set(compiled.methods)
            if "GET" in allowed:
                allowed.add("HEAD")
            return Match(compiled.family, None, values, tuple(sorted(allowed)))
        return Match(compiled.family, op, values)
