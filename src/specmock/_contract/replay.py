"""`specmock replay JOURNAL --target URL`: what a consumer's run sent to the mock, sent to the provider.

Entries are sent in journal order (only those the mock answered as the spec's
operations: no unmatched path, no forced rule, no chaos). Each answer is compared
with the mock's: the status, then the body's shape: the same types, the same
fields present. Scalar values are compared too, outside arrays (a list holds what
the provider holds), except where the provider chooses them: readOnly fields, the
collection's key and timestamps, `date-time`/`date`/`uuid` formats, and every
`--ignore` pointer (`*` matches one segment). The key a provider gives a created
item replaces the mock's in every later path, query and body of the replay.

Exit 0 when every answer agrees, 1 with the differences listed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from .._errors import LoadError
from .._spec.model import Action, Operation
from .._spec.schematools import inline_refs
from .check import Finding, Kind, declared_response, pointer
from .pact import properties_of, provider_chosen
from .report import CheckResult, print_table, write_outputs
from .upstream import Upstream, UpstreamFailure
from .usage import UsageError

REPLAYED = ("ok", "invalid", "refused")


def load_entries(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a journal ({exc})") from None
    entries = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{path}: not a journal (GET /__specmock/journal gives {{'entries': [...]}})")
    return entries


def _matches(pattern: list[str], at: list[str]) -> bool:
    return len(pattern) == len(at) and all(p in ("*", a) for p, a in zip(pattern, at, strict=True))


class Comparison:
    """Differences between the mock's answer and the provider's, for one operation."""

    def __init__(self, op: Operation, status: int, ignore: list[list[str]]) -> None:
        self.op = op
        self.status = status
        self.ignore = ignore
        coll = op.collection
        self.names = frozenset(n for n in (coll.key_field, coll.created_field, coll.updated_field) if n)
        self.findings: list[Finding] = []

    def differ(self, at: list[str | int], detail: str) -> None:
        op = self.op
        self.findings.append(
            Finding(op.operation_id, op.method, op.path, self.status, Kind.DIFFERENCE, pointer(at), detail)
        )

    def ignored(self, at: list[str | int]) -> bool:
        return any(_matches(p, [str(a) for a in at]) for p in self.ignore)

    def compare(self, mock: Any, real: Any, schema: Any, at: list[str | int], values: bool = True) -> None:
        if self.ignored(at):
            return
        if _type(mock) != _type(real):
            self.differ(at, f"the mock answered {_type(mock)}, the provider {_type(real)}")
            return
        if isinstance(mock, dict):
            props = properties_of(schema)
            for name in mock:
                if name not in real and not self.ignored([*at, name]):
                    self.differ([*at, name], "a field the mock answers is missing")
            for name in real:
                if name not in mock and not self.ignored([*at, name]):
                    self.differ([*at, name], "a field the mock does not answer")
            for name in mock:
                if name in real:
                    chosen = name in self.names or provider_chosen(props.get(name))
                    self.compare(mock[name], real[name], props.get(name), [*at, name], values and not chosen)
        elif isinstance(mock, list):
            items = schema.get("items") if isinstance(schema, dict) else None
            for index, (m, r) in enumerate(zip(mock, real, strict=False)):
                self.compare(m, r, items, [*at, index], values=False)
        elif values and mock != real:
            self.differ(at, "the provider's value differs from the mock's")


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _carry(value: Any, ids: dict[str, str]) -> Any:
    """`value` with every mock-given key replaced by the provider's."""
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_carry(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _carry(v, ids) for k, v in value.items()}
    return value


def _carry_path(path: str, ids: dict[str, str]) -> str:
    return "/".join(ids.get(part, part) for part in path.split("/"))


async def replay(args: argparse.Namespace, specs: list[Path] | None, headers: list[tuple[str, str]]) -> int:
    from .._server.app import MockApp

    entries = load_entries(args.journal)
    try:
        mock = MockApp(specs, overlays=args.overlay or (), ref_root=args.ref_root)
        upstream = Upstream(args.target, args.timeout)
    except (LoadError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    ignore = [pattern.split("/")[1:] for pattern in args.ignore]
    ids: dict[str, str] = {}
    results: list[CheckResult] = []
    try:
        for entry in entries:
            if entry.get("outcome") not in REPLAYED:
                continue
            method, path = str(entry.get("method")), str(entry.get("path"))
            op = mock.router.match(method, path).operation
            if op is None:
                continue
            target = _carry_path(path, ids)
            query = "&".join(_carry_path(q, ids) for q in str(entry.get("query") or "").split("&") if q)
            sent = list(headers)
            body = entry.get("requestBody")
            raw = None
            if body is not None:
                raw = json.dumps(_carry(body, ids)).encode()
                sent.append(("content-type", "application/json"))
            result = CheckResult(f"{entry.get('seq')}: {op.operation_id} {method} {path}", op.family.name)
            results.append(result)
            compared = Comparison(op, int(entry.get("status") or 0), ignore)
            started = time.perf_counter()
            try:
                answer = await upstream.send(method, target + (f"?{query}" if query else ""), sent, raw)
            except UpstreamFailure as failure:
                compared.findings.append(
                    Finding(op.operation_id, method, op.path, None, Kind.UPSTREAM, "", failure.reason)
                )
                result.findings = compared.findings
                continue
            result.status = answer.status
            result.seconds = time.perf_counter() - started
            expected = compared.status
            if answer.status != expected:
                compared.differ([], f"the mock answered {expected}, the provider {answer.status}")
            else:
                try:
                    real = json.loads(answer.body) if answer.body else None
                except ValueError:
                    real = answer.body.decode("utf-8", "replace")
                declared = declared_response(op, expected) or {}
                schema = ((declared.get("content") or {}).get("application/json") or {}).get("schema")
                schema = inline_refs(schema, op.family.document) if schema is not None else None
                mock_body = entry.get("responseBody")
                compared.compare(mock_body, real, schema, [])
                coll = op.collection
                if op.action is Action.CREATE and isinstance(mock_body, dict) and isinstance(real, dict):
                    given, theirs = mock_body.get(coll.key_field), real.get(coll.key_field)
                    if given is not None and theirs is not None:
                        ids[str(given)] = str(theirs)
            result.findings = compared.findings
    finally:
        await upstream.aclose()
    print_table(results)
    write_outputs(args, "specmock replay", results)
    return 1 if any(r.findings for r in results) else 0
