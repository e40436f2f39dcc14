"""Load a user's or a bundled spec: read, bundle, normalise, infer, overlay, compile.

The one door every spec goes through. A document that carries `x-specmock`
(the bundled ones) is compiled as written; one that does not gets the inferred
extension. Overlays are applied last, so they refine either. Several specs
load side by side: a method and path declared by two of them is a LoadError
naming both files and lines, before any server starts.

Loading is lenient by default: what a document gets wrong without it stopping an
operation is repaired or ignored with one warning line (repairs.py), an operation
that cannot be served is left out with one (compiler.py), the rest is served.
`strict=True` turns every such line into the LoadError instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import LoadError
from .compiler import HTTP_METHODS, check_unique_families, compile_family
from .diagnostics import Diagnostics
from .document_file import load_document
from .model import Family
from .openapi_versions import detect, normalise
from .overlay import apply_overlay, overlay_target
from .overlay_check import check_overlaid
from .refs import bundle
from .repairs import repair
from .yaml_lines import Document, load_yaml

if TYPE_CHECKING:
    from .infer import Inference


@dataclass(frozen=True)
class LoadedSpec:
    """A spec as served: its final document (extension included) and the compiled family."""

    document: Document
    family: Family
    inference: Inference | None
    diagnostics: Diagnostics | None = None


def read_document(
    path: Path | str, diagnostics: Diagnostics | None = None, ref_root: Path | str | None = None
) -> Document:
    """A spec file as one 3.1-style document: external refs bundled (read within `ref_root`, by
    default the document's folder tree), what a real document gets wrong repaired (each repair
    a line in `diagnostics`), 3.0 schemas converted."""
    doc = load_document(path)
    version = detect(doc)
    if diagnostics is None:
        diagnostics = Diagnostics(doc)
    else:
        diagnostics.document = doc
    doc = bundle(doc, ref_root, diagnostics)
    repair(doc, diagnostics, version)
    return normalise(doc)


def inferred(doc: Document) -> Inference | None:
    """What inference derives for `doc`, or None when the document declares its own extension
    (then the inference modules are not even imported: the bundled specs declare theirs)."""
    if "x-specmock" in doc.data:
        return None
    from .infer import infer

    return infer(doc.data, fallback_name=doc.path.stem)


def with_inference(doc: Document, inference: Inference) -> Document:
    """`doc` carrying the inferred extension (every operation given an operationId if it lacks one)."""
    data = dict(doc.data)
    data["x-specmock"] = inference.family
    paths = {}
    for template, item in (data.get("paths") or {}).items():
        if not isinstance(item, dict):
            paths[template] = item
            continue
        item = dict(item)
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict) and (template, method) in inference.operations:
                op = dict(item[method])
                if not op.get("operationId"):  # missing, or "" (seen in published documents)
                    op["operationId"] = f"{method}{re.sub(r'[^A-Za-z0-9]+', '_', template)}".rstrip("_")
                op["x-specmock"] = inference.operations[(template, method)]
                item[method] = op
        paths[template] = item
    data["paths"] = paths
    return Document(path=doc.path, data=data, lines=doc.lines)


def load_spec(
    path: Path | str, overlays: Sequence[Document] = (), *, strict: bool = False, ref_root: Path | str | None = None
) -> LoadedSpec:
    """Read, infer when needed, apply `overlays` in order, and compile one spec. Lenient unless
    `strict`: the warnings are logged and kept on the LoadedSpec (and its Family). `ref_root`:
    where external `$ref`s may read (default: the document's folder tree)."""
    diagnostics = Diagnostics(Document(path=Path(path), data=None, lines={}), strict=strict)
    try:
        return _load_spec(path, overlays, diagnostics, ref_root)
    except RecursionError:  # a safety net: depth is bounded at parse and while inlining
        raise LoadError(path, None, "nested too deeply to load") from None


def _load_spec(
    path: Path | str, overlays: Sequence[Document], diagnostics: Diagnostics, ref_root: Path | str | None
) -> LoadedSpec:
    doc = read_document(path, diagnostics, ref_root)
    inference = inferred(doc)
    if inference is not None:
        doc = with_inference(doc, inference)
    for overlay in overlays:
        doc = Document(path=doc.path, data=apply_overlay(doc.data, overlay), lines=doc.lines)
        check_overlaid(doc.data, overlay)
    diagnostics.document = doc
    family = compile_family(doc, diagnostics)
    diagnostics.raise_if_strict()
    return LoadedSpec(document=doc, family=family, inference=inference, diagnostics=diagnostics)


def load_specs(
    paths: Iterable[Path | str],
    overlay_files: Iterable[Path | str] = (),
    *,
    strict: bool = False,
    ref_root: Path | str | None = None,
) -> list[LoadedSpec]:
    """Load several specs with their overlays; refuse a family or a route declared twice.
    `strict`: refuse a document for anything a lenient load would only warn about.
    `ref_root`: where external `$ref`s may read (default: each document's folder tree)."""
    files = [Path(p) for p in paths]
    overlays = [load_yaml(p) for p in overlay_files]
    assigned: dict[int, list[Document]] = {i: [] for i in range(len(files))}
    for overlay in overlays:
        assigned[_spec_for(overlay, files)].append(overlay)
    loaded = [load_spec(f, assigned[i], strict=strict, ref_root=ref_root) for i, f in enumerate(files)]
    check_unique_families([spec.family for spec in loaded])
    check_route_clashes(loaded)
    return loaded


def _spec_for(overlay: Document, files: list[Path]) -> int:
    target = overlay_target(overlay)
    if target is not None:
        matches = [i for i, f in enumerate(files) if f.name == target]
        if not matches:
            raise overlay.error(("extends",), f"the overlay extends {target!r}, which is not among the specs served")
        return matches[0]
    if len(files) != 1:
        raise overlay.error((), "with several specs an overlay must say which one it is for ('extends: FILE')")
    return 0


def _shape(path: str) -> str:
    """A path with its parameter names erased: /pets/{id} and /pets/{petId} are one route."""
    return re.sub(r"\{[^/}]*\}", "{}", path.rstrip("/") or "/")


def check_route_clashes(loaded: list[LoadedSpec]) -> None:
    """Two specs may not both declare a method on one path (after their prefixes)."""
    seen: dict[tuple[str, str], tuple[LoadedSpec, str]] = {}
    for spec in loaded:
        prefix = spec.family.prefix
        for op in spec.family.operations:
            key = (op.method, _shape(op.path))
            template = op.path[len(prefix) :]
            if key in seen and seen[key][0] is not spec:
                other, other_template = seen[key]
                other_line = other.document.line_of(("paths", other_template, op.method.lower()))
                where = f"{other.document.path}:{other_line}" if other_line else str(other.document.path)
                raise spec.document.error(
                    ("paths", template, op.method.lower()),
                    f"{op.method} {op.path} is also declared by {where}; serve the two specs on separate ports "
                    "or give one a server path prefix",
                )
            seen.setdefault(key, (spec, template))


__all__ = ["LoadError", "LoadedSpec", "load_spec", "load_specs", "read_document"]
