"""Apply an overlay: our behaviour beside a vendor's document, never inside it.

Two forms are read. An OpenAPI Overlay 1.0 document (`overlay: 1.0.0` and a list
of `actions`, each a `target` JSONPath with `update` and/or `remove`); and a
plain YAML holding the same keys a spec would, at the top level and per
operation (`x-specmock: {...}` and `paths: {/pets: {get: {x-specmock: ...}}}`),
merged in. Only the JSONPath subset overlays need is understood: `$`, `.name`,
`['name']`/`["name"]` and `[*]`/`.*`; anything else is a LoadError naming the line.
An overlay's optional `extends` names the spec it is for (by file name).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .yaml_lines import Document

_TOKEN = re.compile(r"""\.(?P<dot>[^.\[\]]+)|\[(?P<quote>['"])(?P<quoted>.*?)(?P=quote)\]|\[(?P<star>\*)\]""")


def is_overlay_document(data: Any) -> bool:
    """Whether `data` is an OpenAPI Overlay 1.x document (rather than the plain form)."""
    return isinstance(data, dict) and str(data.get("overlay", "")).startswith("1.")


def overlay_target(overlay: Document) -> str | None:
    """The file name the overlay says it extends, if it says."""
    extends = overlay.data.get("extends") if isinstance(overlay.data, dict) else None
    return str(extends).rsplit("/", 1)[-1] if extends else None


def apply_overlay(spec: Any, overlay: Document) -> Any:
    """A copy of `spec` with `overlay` applied; a LoadError (file, line) if the overlay is broken."""
    data = overlay.data
    if not isinstance(data, dict):
        raise overlay.error((), "an overlay must be a mapping")
    result = copy.deepcopy(spec)
    if not is_overlay_document(data):
        plain = {k: v for k, v in data.items() if k != "extends"}
        return merge(result, plain)
    actions = data.get("actions")
    if not isinstance(actions, list):
        raise overlay.error(("actions",), "an Overlay document needs a list of actions")
    for index, action in enumerate(actions):
        at = ("actions", index)
        if not isinstance(action, dict) or not isinstance(action.get("target"), str):
            raise overlay.error(at, "each overlay action needs a string 'target'")
        try:
            steps = parse_path(action["target"])
        except ValueError as exc:
            raise overlay.error((*at, "target"), str(exc)) from None
        if action.get("remove") is True:
            _remove(result, steps)
            continue
        if "update" in action:
            nodes = list(_select(result, steps))
            if not nodes:
                raise overlay.error((*at, "target"), f"target {action['target']!r} matches nothing in the spec")
            for node in nodes:
                if isinstance(node, dict) and isinstance(action["update"], dict):
                    merge(node, copy.deepcopy(action["update"]))
                elif isinstance(node, list):
                    node.append(copy.deepcopy(action["update"]))
                else:
                    raise overlay.error((*at, "update"), "an update must merge a mapping into a mapping")
    return result


def merge(target: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Merge `update` into `target` in place (mappings recursively, everything else replaced)."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value
    return target


def parse_path(expression: str) -> list[str | None]:
    """`$.paths['/pets'].get` as ['paths', '/pets', 'get']; None stands for a wildcard."""
    if not expression.startswith("$"):
        raise ValueError(f"a target must start with '$': {expression!r}")
    steps: list[str | None] = []
    rest = expression[1:]
    while rest:
        m = _TOKEN.match(rest)
        if m is None:
            raise ValueError(f"unsupported JSONPath in target {expression!r} at {rest!r}")
        if m.group("star") or m.group("dot") == "*":
            steps.append(None)
        else:
            steps.append(m.group("dot") if m.group("dot") is not None else m.group("quoted"))
        rest = rest[m.end() :]
    return steps


def _children(node: Any, step: str | None) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values()) if step is None else ([node[step]] if step in node else [])
    if isinstance(node, list):
        if step is None:
            return list(node)
        return [node[int(step)]] if step.isdigit() and int(step) < len(node) else []
    return []


def _select(root: Any, steps: list[str | None]) -> list[Any]:
    nodes = [root]
    for step in steps:
        nodes = [child for node in nodes for child in _children(node, step)]
    return nodes


def _remove(root: Any, steps: list[str | None]) -> None:
    if not steps:
        return
    for parent in _select(root, steps[:-1]):
        last = steps[-1]
        if isinstance(parent, dict):
            for key in list(parent) if last is None else [last]:
                parent.pop(key, None)
        elif isinstance(parent, list):
            if last is None:
                parent.clear()
            elif last.isdigit() and int(last) < len(parent):
                del parent[int(last)]


def inference_overlay(
    family: dict[str, Any], operations: dict[tuple[str, str], dict[str, Any]], extends: str
) -> dict[str, Any]:
    """An Overlay 1.0 document that puts an inferred extension on its spec."""
    actions: list[dict[str, Any]] = [{"target": "$", "update": {"x-specmock": family}}]
    for (path, method), ext in operations.items():
        actions.append({"target": f"$.paths['{path}'].{method}", "update": {"x-specmock": ext}})
    return {
        "overlay": "1.0.0",
        "info": {"title": f"specmock behaviour for {extends}", "version": "1.0.0"},
        "extends": extends,
        "actions": actions,
    }
