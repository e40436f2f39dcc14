"""Findings as files a person or a CI system reads: a JSON report and JUnit XML.

The JSON report is `{"findings": [{"operationId", "method", "path", "status", "kind",
"pointer", "detail"}...]}` (plus `count` per finding when it was seen more than once, and
`checks` when a command ran a fixed list of them). JUnit has one test case per check
(verify's steps, replay's exchanges) or per operation (proxy), failed by its findings.

Invariants: files are written whole or not at all (a temporary file renamed over the
target), and hold only what findings hold: no header, no body value.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .check import Finding


@dataclass
class CheckResult:
    """One named check (a verify step, a replayed exchange) and what it found."""

    name: str
    group: str  # the operation, or the family: JUnit's classname
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None  # why it did not run
    status: int | None = None  # the provider's answer, when there was one

    @property
    def passed(self) -> bool:
        return not self.findings


def write_atomically(path: Path, text: str) -> None:
    """`text` at `path`, replacing it in one step (a reader never sees half a report)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def report_json(findings: Iterable[tuple[Finding, int]], checks: Sequence[CheckResult] | None = None) -> str:
    """The JSON report: every finding (with how often it was seen), and the checks when given."""
    out: dict[str, Any] = {"findings": []}
    for finding, count in findings:
        entry = finding.as_dict()
        if count > 1:
            entry["count"] = count
        out["findings"].append(entry)
    if checks is not None:
        out["checks"] = [
            {"name": c.name, "group": c.group, "passed": c.passed, "skipped": c.skipped, "findings": len(c.findings)}
            for c in checks
        ]
    return json.dumps(out, indent=2) + "\n"


def describe(finding: Finding) -> str:
    """One line for a person: where, what kind, why."""
    where = f" at {finding.pointer}" if finding.pointer else ""
    status = f" {finding.status}" if finding.status is not None else ""
    operation = finding.operation_id or "(no operation)"
    return f"{operation} {finding.method} {finding.path}{status}: {finding.kind}{where}: {finding.detail}"


def junit_xml(suite: str, checks: Sequence[CheckResult]) -> str:
    """JUnit XML with one test case per check; a check with findings fails with each of them."""
    failures = sum(1 for c in checks if c.findings)
    skipped = sum(1 for c in checks if c.skipped)
    root = ElementTree.Element(
        "testsuite",
        name=suite,
        tests=str(len(checks)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{sum(c.seconds for c in checks):.3f}",
    )
    for check in checks:
        case = ElementTree.SubElement(root, "testcase", classname=check.group, name=check.name)
        case.set("time", f"{check.seconds:.3f}")
        if check.skipped:
            ElementTree.SubElement(case, "skipped", message=check.skipped)
        if check.findings:
            lines = [describe(f) for f in check.findings]
            failure = ElementTree.SubElement(case, "failure", message=lines[0], type=str(check.findings[0].kind))
            failure.text = "\n".join(lines)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def checks_by_operation(findings: Iterable[tuple[Finding, int]], operations: Iterable[str]) -> list[CheckResult]:
    """Proxy's JUnit: one case per operation seen (or served), failed by its findings."""
    by_operation: dict[str, CheckResult] = {name: CheckResult(name, "proxy") for name in operations}
    for finding, _count in findings:
        name = finding.operation_id or f"{finding.method} {finding.path}"
        by_operation.setdefault(name, CheckResult(name, "proxy")).findings.append(finding)
    return list(by_operation.values())


def print_table(results: Sequence[CheckResult]) -> None:
    for result in results:
        mark = "SKIP" if result.skipped else "PASS" if result.passed else "FAIL"
        status = "" if result.status is None else str(result.status)
        print(f"{mark}  {result.group:<14} {result.name:<64} {status:>4} {result.seconds * 1000:7.1f} ms")
        if result.skipped:
            print(f"      skipped: {result.skipped}")
        for finding in result.findings:
            print(f"      {describe(finding)}")
    failed = sum(1 for r in results if r.findings)
    skipped = sum(1 for r in results if r.skipped)
    print(f"{len(results)} checks, {failed} failed, {skipped} skipped")


def write_outputs(args: argparse.Namespace, suite: str, results: Sequence[CheckResult]) -> None:
    findings = [(f, 1) for r in results for f in r.findings]
    if args.report:
        write_atomically(Path(args.report), report_json(findings, results))
    if args.junit:
        write_atomically(Path(args.junit), junit_xml(suite, results))
