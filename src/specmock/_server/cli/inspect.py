"""`specmock routes`, `validate`, `infer` and `schema`: read documents, print what they hold.

Invariants: each takes its documents the way `serve` does (positional, or `--spec`,
files or bundled names); `validate` tells an OpenAPI document from a scenario (and an
overlay) by its top-level keys, so one command checks any mix of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..._errors import LoadError
from ..._spec.bundled import bundled_spec_names, resolve_document
from .args import FAILED, STRICT_HELP, USAGE, add_documents, add_ref_root, documents_of, resolved_documents


def add_to(sub: Any) -> None:
    """Register `routes`, `validate`, `infer` and `schema`."""
    routes = sub.add_parser(
        "routes", help="list every operation served", description="Lists family, method, path and operationId."
    )
    add_documents(routes, "to list (default: the bundled specs)")
    routes.add_argument("--strict", action="store_true", help=STRICT_HELP)
    routes.set_defaults(run=run_routes)

    validate = sub.add_parser(
        "validate",
        help="check specs and scenarios; exit 1 with file:line: reason if broken",
        description="Each DOCUMENT is an OpenAPI document, a scenario or a bundled name; it is told "
        "apart by its keys. Scenarios are checked against the OpenAPI documents given (default: the "
        "bundled specs). With no DOCUMENT: the bundled specs and scenarios.",
    )
    add_documents(validate, "or a scenario file or bundled scenario's name")
    validate.add_argument("--strict", action="store_true", help=STRICT_HELP)
    validate.set_defaults(run=run_validate)

    infer = sub.add_parser(
        "infer",
        help="print the x-specmock inferred for a spec, as an Overlay to keep and edit",
        description="Prints YAML: an OpenAPI Overlay 1.0 document (default) or the plain form.",
    )
    infer.add_argument("document", metavar="DOCUMENT", nargs="?", help="an OpenAPI 3.0 or 3.1 file, or a bundled name")
    infer.add_argument("--spec", metavar="DOCUMENT", help="the same as DOCUMENT")
    infer.add_argument("--format", choices=["overlay", "plain"], default="overlay", help="output form")
    add_ref_root(infer)
    infer.set_defaults(run=run_infer)

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.set_defaults(run=run_schema)


def run_routes(args: argparse.Namespace) -> int:
    """One line per operation, columns as wide as their longest cell; then those left out, and why."""
    from ..app import MockApp

    try:
        app = MockApp(resolved_documents(args), overlays=args.overlay or (), strict=args.strict, ref_root=args.ref_root)
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return USAGE
    rows = [(op.family.name, op.method, op.path, op.operation_id) for op in app.operations]
    rows += [
        (family.name, out.method, out.path, f"{out.operation_id or '-'} LEFT OUT: {out.reason}")
        for family in app.families
        for out in family.left_out
    ]
    for line in aligned(rows):
        print(line)
    return 0


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as text columns two spaces apart, each as wide as its widest cell (the last unpadded)."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]


def run_infer(args: argparse.Namespace) -> int:
    """The inferred extension as YAML."""
    from ..._spec.inference_output import inference_yaml

    given = args.document or args.spec
    if given is None:
        print("specmock infer: give the OpenAPI document to infer from (see 'specmock infer --help')", file=sys.stderr)
        return USAGE
    try:
        print(inference_yaml(resolve_document(given), plain=args.format == "plain", ref_root=args.ref_root), end="")
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return USAGE
    return 0


def run_schema(args: argparse.Namespace) -> int:
    """The scenario format's JSON Schema."""
    from ..._scenario.schema import SCENARIO_SCHEMA

    print(json.dumps(SCENARIO_SCHEMA, indent=2))
    return 0


def kind_of(path: Path) -> str:
    """ "openapi", "overlay" or "scenario": what a document is, by its top-level keys."""
    from ..._spec.yaml_lines import load_yaml

    data = load_yaml(path).data
    if isinstance(data, dict) and ("openapi" in data or "swagger" in data):
        return "openapi"
    if isinstance(data, dict) and "overlay" in data and "actions" in data:
        return "overlay"
    return "scenario"


def run_validate(args: argparse.Namespace) -> int:
    """Load the OpenAPI documents, then check every scenario against them; one line per document."""
    from ..._scenario.registry import bundled_scenario_files
    from ..app import MockApp

    bundled_scenarios = bundled_scenario_files()
    specs: list[str] = []
    scenarios: list[str] = []
    failed = 0
    for given in documents_of(args) or []:
        try:
            if given in bundled_scenarios and not Path(given).exists():
                scenarios.append(str(bundled_scenarios[given]))
                continue
            path = _validate_target(given, bundled_scenarios)
            kind = kind_of(path)
        except LoadError as exc:
            print(f"specmock: {exc}", file=sys.stderr)
            failed += 1
            continue
        if kind == "overlay":
            print(f"specmock: {given}: an Overlay, not a document: pass it with --overlay", file=sys.stderr)
            failed += 1
        else:
            (specs if kind == "openapi" else scenarios).append(str(path))
    if not specs and not scenarios and not failed:
        specs, scenarios = [], [str(p) for p in bundled_scenario_files().values()]
    try:
        app = MockApp(specs or None, overlays=args.overlay or (), strict=args.strict, ref_root=args.ref_root)
    except LoadError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return FAILED
    for source in specs or [str(p) for p in bundled_spec_names().values()]:
        print(f"ok {source}")
    for source in scenarios:
        try:
            app.load_scenario(source, reset=False)
        except LoadError as exc:
            print(f"specmock: {exc}", file=sys.stderr)
            failed += 1
        else:
            print(f"ok {source}")
    print(f"{len(app.families)} spec(s), {len(scenarios)} scenario(s) checked, {failed} broken")
    return FAILED if failed else 0


def _validate_target(given: str, bundled_scenarios: dict[str, Path]) -> Path:
    """A validate argument as a file: a file, a bundled spec, else a LoadError naming both kinds of name."""
    try:
        return resolve_document(given)
    except LoadError:
        from ..._suggest import did_you_mean

        names = [*bundled_spec_names(), *bundled_scenarios]
        raise LoadError(
            given, None, f"no such file, bundled spec or bundled scenario{did_you_mean(given, names)}"
        ) from None
