"""The package's import direction, checked from the source (every import, `TYPE_CHECKING` ones included).

Layers, lowest first: the base modules (errors, clock, encoding, suggest), then spec, runtime,
scenario, server, testing. A module may import its own layer and the ones below;
no two modules may import each other, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "specmock"

LAYERS = [
    {"specmock.errors", "specmock.clock", "specmock.encoding", "specmock.suggest"},
    {"specmock.spec"},
    {"specmock.runtime"},
    {"specmock.scenario"},
    {"specmock.server"},
    {"specmock.testing"},
]
#: The facade and the `python -m specmock` entry point sit above every layer.
TOP = {"specmock", "specmock.__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """Every specmock module `name` imports, wherever the import statement is."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("specmock"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("specmock"):
                continue
            for alias in node.names:  # `from .spec import model` imports the module spec.model
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in MODULES else target)
    found.discard(name)
    return {m for m in found if m in MODULES}


GRAPH = {name: imports_of(name) for name in MODULES}


def layer_of(name: str) -> int:
    for index, members in enumerate(LAYERS):
        if any(name == m or name.startswith(m + ".") for m in members):
            return index
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS in {__file__}")


def test_every_module_belongs_to_a_layer():
    for name in MODULES:
        if name not in TOP:
            layer_of(name)


@pytest.mark.parametrize("name", sorted(set(MODULES) - TOP))
def test_imports_point_down_the_layers(name: str):
    upward = sorted(m for m in GRAPH[name] if m not in TOP and layer_of(m) > layer_of(name))
    facade = sorted(m for m in GRAPH[name] if m in TOP)
    assert not upward, f"{name} (layer {layer_of(name)}) imports a higher layer: {upward}"
    assert not facade, f"{name} imports the package facade {facade}: import the module itself"


def test_no_import_cycles():
    cycles = [component for component in strongly_connected(GRAPH) if len(component) > 1]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def test_the_checker_sees_a_cycle_and_an_upward_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert sorted(map(sorted, (c for c in strongly_connected(graph) if len(c) > 1))) == [["a", "b", "c"]]
    assert "specmock.server.app" in GRAPH["specmock.testing.handle"]  # a real edge is seen
    assert layer_of("specmock.server.app") > layer_of("specmock.runtime.store")


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively: the graph's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components
