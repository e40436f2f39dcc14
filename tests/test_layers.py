"""The package's import direction, checked from the source (every import, `TYPE_CHECKING` ones included).

Layers, lowest first: the base modules (errors, clock, encoding, suggest), then spec, runtime,
scenario, server, contract, testing. The command line (`specmock._server.cli`, a package) is an
entry point like `python -m specmock`: it sits above every layer, and no module outside it imports it.
A module may import its own layer and the ones below;
no two modules may import each other, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "specmock"

LAYERS = [
    {"specmock._errors", "specmock._clock", "specmock._encoding", "specmock._suggest"},
    {"specmock._spec"},
    {"specmock._runtime"},
    {"specmock._scenario"},
    {"specmock._server"},
    {"specmock._contract"},
    {"specmock._testing"},
]
#: The facade and the entry points (`python -m specmock`, the `specmock` command) sit above every layer.
ENTRY_POINTS = {"specmock", "specmock.__main__", "specmock._server.cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
TOP = ENTRY_POINTS | {name for name in MODULES if name.startswith("specmock._server.cli.")}


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
    assert "specmock._server.app" in GRAPH["specmock._testing.handle"]  # a real edge is seen
    assert layer_of("specmock._server.app") > layer_of("specmock._runtime.state.store")
    assert layer_of("specmock._contract.check") > layer_of("specmock._server.router")
    assert layer_of("specmock._testing.conformance") > layer_of("specmock._contract.check")


def third_party_imports(name: str) -> set[str]:
    """The top-level packages outside specmock that module `name` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found - {"specmock"}


STATE = "specmock._runtime.state"
BACKENDS = {f"{STATE}.memory", f"{STATE}.file", f"{STATE}.persister", f"{STATE}.redis"}


def test_the_redis_feature_lives_in_the_state_package_alone():
    users = sorted(name for name in MODULES if "redis" in third_party_imports(name))
    assert users, "the check sees the Redis client imported somewhere"
    assert all(name.startswith(f"{STATE}.redis") for name in users), users


def test_the_request_path_knows_the_state_seam_not_its_backends():
    """The engine, the dispatcher, the admin API and the dashboard are handed a State: none of
    them may import a backend (only the package's facade picks one, from what the user asked)."""
    for name in (
        "specmock._runtime.engine",
        "specmock._runtime.item_building",
        "specmock._runtime.item_views",
        "specmock._runtime.item_writes",
        "specmock._server.dispatch",
        "specmock._server.admin",
        "specmock._server.dashboard",
    ):
        backends = sorted(m for m in GRAPH[name] if m in BACKENDS or m.startswith(f"{STATE}.redis"))
        assert not backends, f"{name} imports state backends {backends}"
    assert layer_of(STATE) == layer_of("specmock._runtime.engine")
    assert not any(
        m.startswith(("specmock._scenario", "specmock._server"))
        for n in MODULES
        if n.startswith(STATE)
        for m in GRAPH[n]
    )


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
