"""External `$ref`s to local files, bundled into one document at load.

A spec split over files (`$ref: schemas/pet.yaml#/Pet`) is read as if it were
one: each external target is copied in place of its reference, and references
inside the copied part are followed relative to the file they were written in.
A target that (directly or not) refers to itself is hoisted once into
`components/schemas` and referred to locally, so recursion survives bundling.
Invariant: after `bundle`, every `$ref` in the document starts with `#`.
Remote (http) references are refused at load: a mock must not fetch at start-up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import LoadError
from .documents import load_document
from .schematools import resolve_pointer
from .yamlload import Document, JsonPath

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class _Bundler:
    """Walks one root document, pulling in the files its references name."""

    def __init__(self, root: Document) -> None:
        self.root = root
        self.files: dict[Path, Any] = {root.path.resolve(): root.data}
        self.hoisted: dict[tuple[Path, str], str] = {}
        self.components: dict[str, Any] = {}

    def load(self, path: Path) -> Any:
        key = path.resolve()
        if key not in self.files:
            self.files[key] = load_document(path).data
        return self.files[key]

    def walk(self, node: Any, base: Path, at: JsonPath, stack: tuple[tuple[Path, str], ...]) -> Any:
        if isinstance(node, list):
            return [self.walk(item, base, (*at, i), stack) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and (not ref.startswith("#") or base != self.root.path.resolve()):
            return self.follow(ref, node, base, at, stack)
        return {key: self.walk(value, base, (*at, key), stack) for key, value in node.items()}

    def follow(
        self, ref: str, node: dict[str, Any], base: Path, at: JsonPath, stack: tuple[tuple[Path, str], ...]
    ) -> Any:
        if re.match(r"^[a-z][a-z0-9+.-]*://", ref, re.IGNORECASE):
            raise self.root.error(at, f"remote $ref {ref!r} is not supported: save it next to the spec")
        file_part, _, pointer = ref.partition("#")
        target_file = (base.parent / file_part).resolve() if file_part else base
        key = (target_file, "#" + pointer)
        if target_file == self.root.path.resolve():
            return {**node, "$ref": "#" + pointer}
        if key in stack or key in self.hoisted:
            return {"$ref": self.hoist(key, at, stack)}
        try:
            data = self.load(target_file)
            target = resolve_pointer(data, "#" + pointer) if pointer else data
        except LoadError:
            raise
        except (KeyError, IndexError, ValueError, TypeError):
            raise self.root.error(at, f"$ref {ref!r}: {pointer!r} does not exist in {target_file}") from None
        bundled = self.walk(target, target_file, at, (*stack, key))
        if key in self.hoisted:  # it referred to itself: the copy lives in components now
            self.components[self.hoisted[key].rsplit("/", 1)[1]] = bundled
            return {"$ref": self.hoisted[key]}
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**bundled, **siblings} if isinstance(bundled, dict) and siblings else bundled

    def hoist(self, key: tuple[Path, str], at: JsonPath, stack: tuple[tuple[Path, str], ...]) -> str:
        if key not in self.hoisted:
            name = _UNSAFE.sub("_", f"{key[0].stem}_{key[1].rsplit('/', 1)[-1]}").strip("_") or "bundled"
            existing = (self.root.data.get("components") or {}).get("schemas") or {}
            while name in existing or name in self.components:
                name += "_"
            self.hoisted[key] = f"#/components/schemas/{name}"
            self.components[name] = None  # reserved; filled once the copy is built
        return self.hoisted[key]


def bundle(doc: Document) -> Document:
    """`doc` with every external local `$ref` replaced by what it names."""
    if not _has_external(doc.data):
        return doc
    bundler = _Bundler(doc)
    data = bundler.walk(doc.data, doc.path.resolve(), (), ())
    if bundler.components:
        components = data.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.update(bundler.components)
    return Document(path=doc.path, data=data, lines=doc.lines)


def _has_external(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_has_external(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_external(v) for v in node)
    return False
