"""What `specmock infer` prints: the inferred extension as YAML a user keeps.

The default form is an OpenAPI Overlay 1.0 document whose `extends` names the
spec, so `specmock serve --spec SPEC --overlay printed.yaml` serves exactly what
inference serves; `plain` prints the same keys laid out as they would sit in
the spec. Invariant: loading the printed text back gives the same extension.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .infer import Inference, infer
from .overlay import inference_overlay
from .spec_loader import read_document


def inference_of(path: Path, ref_root: Path | None = None) -> Inference:
    """The inference for a spec file, even if it declares its own extension (that is ignored);
    its external `$ref`s read within `ref_root` (default: its folder tree)."""
    doc = read_document(path, ref_root=ref_root)
    data = {k: v for k, v in doc.data.items() if k != "x-specmock"}
    return infer(data, fallback_name=path.stem)


def plain_form(inference: Inference) -> dict[str, Any]:
    """The extension as it would sit in the spec: top level, and under each path and method."""
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), ext in inference.operations.items():
        paths.setdefault(path, {})[method] = {"x-specmock": ext}
    return {"x-specmock": inference.family, "paths": paths}


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order inference wrote them, no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def inference_yaml(path: Path, plain: bool = False, ref_root: Path | None = None) -> str:
    """The text `specmock infer` prints for `path`."""
    inference = inference_of(path, ref_root)
    document = plain_form(inference) if plain else inference_overlay(inference.family, inference.operations, path.name)
    header = f"# specmock infer {path.name}: what specmock guessed; keep this file and edit it as an overlay.\n"
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return header + body
