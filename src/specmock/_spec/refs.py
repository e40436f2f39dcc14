"""External `$ref`s to local files, bundled into one document at load.

A spec split over files (`$ref: schemas/pet.yaml#/Pet`) is read as if it were
one: each external target is copied in place of its reference, and references
inside the copied part are followed relative to the file they were written in.
A target that (directly or not) refers to itself is hoisted once into
`components/schemas` and referred to locally, so recursion survives bundling.
Invariant: after `bundle`, every `$ref` in the document starts with `#`.
Remote (http) references are never fetched: a mock must not fetch at start-up.
With Diagnostics (the lenient load), a remote reference, or one naming a file or a
part of it that does not exist, is one warning and matches any value; without, a
LoadError. A reference that would read outside the root (below) is always refused.

Third-party documents are what users feed in, so a reference reads only a
regular file (no FIFO, device or /dev/zero) of at most MAX_REF_BYTES inside the
reference root: the document's folder tree unless the loader is given a wider
one (`ref_root`, or SPECMOCK_REF_ROOT). A symlink counts where it leads. A
reference is followed wherever it is written (an `example: {$ref: pet.json}`
is common practice), so `example: {$ref: /etc/passwd}` is refused like any other.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from .._errors import LoadError
from .diagnostics import Diagnostics
from .document_file import load_document
from .schematools import resolve_pointer
from .yaml_lines import Document, JsonPath

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

#: The largest file a `$ref` may read (GitHub's whole description is 13 MB).
MAX_REF_BYTES = 32 * 1024 * 1024
#: Widens the reference root for every load (`specmock serve` reads it too).
REF_ROOT_ENV = "SPECMOCK_REF_ROOT"


def ref_root_for(document: Path, ref_root: Path | str | None = None) -> Path:
    """Where `document`'s external references may read: `ref_root`, SPECMOCK_REF_ROOT, else its folder."""
    chosen = ref_root if ref_root is not None else os.environ.get(REF_ROOT_ENV) or document.resolve().parent
    return Path(chosen).resolve()


class _Bundler:
    """Walks one root document, pulling in the files its references name."""

    def __init__(self, root: Document, ref_root: Path, diagnostics: Diagnostics | None) -> None:
        self.root = root
        self.ref_root = ref_root
        self.diagnostics = diagnostics
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

    def unresolved(self, node: dict[str, Any], at: JsonPath, reason: str) -> Any:
        """A reference that names nothing readable: a LoadError, or (lenient) a warning and any value."""
        if self.diagnostics is None:
            raise self.root.error(at, reason)
        self.diagnostics.warn((*at, "$ref"), f"{reason}; any value matches it")
        return {k: v for k, v in node.items() if k != "$ref"}

    def readable(self, target: Path, ref: str, at: JsonPath) -> str | None:
        """Refuse a target outside the reference root, not a regular file, or too large;
        why a target that is simply not there cannot be read (None when it can)."""
        if not target.is_relative_to(self.ref_root):
            raise self.root.error(
                at,
                f"$ref {ref!r} reads {target}, outside {self.ref_root} (the document's folder tree); "
                f"a wider root is given with --ref-root DIR, ref_root= or {REF_ROOT_ENV}",
            )
        try:
            info = os.stat(target)
        except OSError as exc:
            return f"$ref {ref!r}: cannot read {target}: {exc.strerror or exc}"
        if not stat.S_ISREG(info.st_mode):
            raise self.root.error(at, f"$ref {ref!r}: {target} is not a regular file")
        if info.st_size > MAX_REF_BYTES:
            raise self.root.error(at, f"$ref {ref!r}: {target} is larger than {MAX_REF_BYTES // 2**20} MB")
        return None

    def follow(
        self, ref: str, node: dict[str, Any], base: Path, at: JsonPath, stack: tuple[tuple[Path, str], ...]
    ) -> Any:
        if re.match(r"^[a-z][a-z0-9+.-]*://", ref, re.IGNORECASE):
            return self.unresolved(node, at, f"remote $ref {ref!r} is not fetched: save it next to the spec")
        file_part, _, pointer = ref.partition("#")
        target_file = (base.parent / file_part).resolve() if file_part else base
        key = (target_file, "#" + pointer)
        if target_file == self.root.path.resolve():
            return {**node, "$ref": "#" + pointer}
        if key in stack or key in self.hoisted:
            return {"$ref": self.hoist(key, at, stack)}
        if target_file.resolve() not in self.files:
            missing = self.readable(target_file, ref, at)
            if missing is not None:
                return self.unresolved(node, at, missing)
        try:
            data = self.load(target_file)
            target = resolve_pointer(data, "#" + pointer) if pointer else data
        except LoadError:
            raise
        except (KeyError, IndexError, ValueError, TypeError):
            return self.unresolved(node, at, f"$ref {ref!r}: {pointer!r} does not exist in {target_file}")
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


def bundle(doc: Document, ref_root: Path | str | None = None, diagnostics: Diagnostics | None = None) -> Document:
    """`doc` with every external local `$ref` replaced by what it names (read within `ref_root`,
    by default the document's folder tree); with `diagnostics`, one that names nothing is a
    warning there."""
    if not _has_external(doc.data):
        return doc
    bundler = _Bundler(doc, ref_root_for(doc.path, ref_root), diagnostics)
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
