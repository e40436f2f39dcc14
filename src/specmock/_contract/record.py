"""`specmock proxy --record PATH`: what the provider held, as a scenario file.

Every successful answer that carries items of a collection (a create, a read, a
list, an update) updates the recorded item with that key; a successful delete
forgets it. On exit the items are written as a scenario's `fixtures`, per family
and collection, with ids and timestamps as the provider gave them, so
`specmock serve --scenario PATH` starts from what the provider held.

Invariants: items arrive already redacted (no write-only field, see redact.py);
a nested item gets its parent's key from the path when its body leaves it out,
so the fixture lands in the right scope; the file is written whole (report.py).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml

from .._spec.lifecycle import META
from .._spec.model import Action, Collection, Operation
from .report import write_atomically

_SINGLE = (Action.CREATE, Action.GET, Action.REPLACE, Action.UPDATE, Action.SET)


def _items(op: Operation, data: Any) -> list[Any]:
    """The items an answer of `op` carries."""
    if op.action is Action.LIST:
        if isinstance(data, dict):
            for key in (op.envelope, op.wrap, "items", "results", "data"):
                if key and isinstance(data.get(key), list):
                    return list(data[key])
            return []
        return list(data) if isinstance(data, list) else []
    if op.action in _SINGLE:
        if op.wrap and isinstance(data, dict) and isinstance(data.get(op.wrap), dict):
            return [data[op.wrap]]
        return [data] if isinstance(data, dict) else []
    return []


class Recorder:
    """The provider's items, by collection and key, in the order first seen."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._items: dict[tuple[str, str], dict[Any, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def observe(self, op: Operation, path_values: dict[str, str], data: Any) -> None:
        coll = op.collection
        if coll.name == "_example":
            return
        key = (op.family.name, coll.name)
        with self._lock:
            held = self._items.setdefault(key, {})
            if op.action is Action.DELETE:
                if op.id_param is not None:
                    held.pop(path_values.get(op.id_param), None)
                return
            for item in _items(op, data):
                if isinstance(item, dict) and item.get(coll.key_field) is not None:
                    key_value = str(item[coll.key_field])  # a later answer adds to what an earlier one showed
                    held[key_value] = {**held.get(key_value, {}), **self._scoped(coll, path_values, item)}

    @staticmethod
    def _scoped(coll: Collection, path_values: dict[str, str], item: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in item.items() if k != META}
        for field, param in coll.scope.items():
            if field not in out and param in path_values:
                out[field] = path_values[param]
        return out

    def scenario(self) -> dict[str, Any]:
        fixtures: dict[str, dict[str, list[dict[str, Any]]]] = {}
        with self._lock:
            for (family, collection), held in self._items.items():
                if held:
                    fixtures.setdefault(family, {})[collection] = list(held.values())
        return {
            "name": "recorded",
            "description": f"What {self.source} held, recorded by specmock proxy.",
            "fixtures": fixtures,
        }

    def write(self, path: Path) -> None:
        header = "# Recorded by `specmock proxy --record`: load it with `specmock serve --scenario FILE`.\n"
        write_atomically(path, header + yaml.safe_dump(self.scenario(), sort_keys=False, allow_unicode=True))
