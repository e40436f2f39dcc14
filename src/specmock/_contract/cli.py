"""The contract commands: `specmock proxy`, `specmock verify`, `specmock replay`.

`server.cli` registers them (`add_commands`) and hands in what it owns, the
way it builds and serves a mock, so this module never imports the command line
and `proxy` takes every `serve` option. Exit statuses: 0 the provider conforms,
1 it does not, 2 a usage error (a spec that does not load, a bad URL or header).

Credentials for the provider come from `--header 'Name: value'` (repeatable) or
from the environment variable SPECMOCK_HEADER (one `Name: value` per line), so
they stay out of shell history; they are sent and never written anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .limits import DEFAULT_MAX_UPSTREAM_BODY, DEFAULT_TIMEOUT
from .usage import UsageError

if TYPE_CHECKING:
    from .._server.app import MockApp

#: Puts an app in front of a served mock: (mock, its app) -> (what to serve, what to run once stopped).
Front = Callable[["MockApp", Any], tuple[Any, Callable[[], Awaitable[None]] | None]]
HEADER_ENV = "SPECMOCK_HEADER"


def add_commands(sub: Any, serve: argparse.ArgumentParser) -> None:
    """Register proxy (with every `serve` option), verify and replay."""
    proxy = sub.add_parser(
        "proxy",
        parents=[serve],
        add_help=False,
        help="forward to a provider, answer unchanged, report how it drifts from the spec",
        description="Every serve option applies. Findings: GET /__specmock/drift, the journal, the dashboard.",
    )
    proxy.add_argument("--upstream", required=True, metavar="URL", help="the provider's base URL")
    _timeout(proxy)
    proxy.add_argument(
        "--max-upstream-body",
        type=int,
        default=DEFAULT_MAX_UPSTREAM_BODY,
        metavar="BYTES",
        help="a larger answer is a 502 and a finding (default 8 MiB)",
    )
    _outputs(proxy)
    proxy.add_argument(
        "--record", type=Path, metavar="PATH", help="on exit, write what the provider held as a scenario"
    )
    proxy.set_defaults(contract=run_proxy)

    verify = sub.add_parser("verify", help="run the spec as stateful contract tests against a live provider")
    _spec_options(verify)
    verify.add_argument("--target", required=True, metavar="URL", help="the provider's base URL")
    verify.add_argument(
        "--scenario", action="append", metavar="FILE|NAME", help="fixtures to take request bodies from (repeatable)"
    )
    verify.add_argument(
        "--poll-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a lifecycle (a scan) may take to finish on the provider's clock (default 30)",
    )
    _headers(verify)
    _timeout(verify)
    _outputs(verify)
    verify.set_defaults(contract=run_verify)

    replay = sub.add_parser("replay", help="send a mock journal to a provider and compare its answers")
    replay.add_argument("journal", type=Path, metavar="JOURNAL", help="a journal (GET /__specmock/journal) as JSON")
    _spec_options(replay)
    replay.add_argument("--target", required=True, metavar="URL", help="the provider's base URL")
    replay.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="POINTER",
        help="a JSON pointer whose value the provider chooses (repeatable; /items/*/id matches any index)",
    )
    _headers(replay)
    _timeout(replay)
    _outputs(replay)
    replay.set_defaults(contract=run_replay)


def _spec_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "documents", nargs="*", metavar="DOCUMENT", help="a spec file or bundled family name (as --spec)"
    )
    parser.add_argument(
        "--spec", action="append", metavar="FILE|NAME", help="a spec file or bundled family name (repeatable)"
    )
    parser.add_argument("--overlay", action="append", metavar="FILE", help="an overlay applied to the spec")
    parser.add_argument(
        "--ref-root",
        type=Path,
        metavar="DIR",
        help="external $refs may read files under DIR (default: each document's folder tree; also SPECMOCK_REF_ROOT)",
    )


def _timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"the provider must answer each request within this (default {DEFAULT_TIMEOUT:g})",
    )


def _headers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help=f"sent with every request (repeatable; also {HEADER_ENV}, one per line)",
    )


def _outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", type=Path, metavar="PATH", help="write the findings as JSON")
    parser.add_argument("--junit", type=Path, metavar="PATH", help="write the findings as JUnit XML")


def headers_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    """`--header` values and SPECMOCK_HEADER lines as (name, value); UsageError for a malformed one."""
    lines = [*os.environ.get(HEADER_ENV, "").splitlines(), *args.header]
    out = []
    for line in lines:
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or any(c in name for c in " \t\r\n") or "\n" in value:
            raise UsageError("a header is 'Name: value'")  # the value may be a secret: never echoed
        out.append((name.strip(), value.strip()))
    return out


def spec_files(args: argparse.Namespace) -> list[Path] | None:
    """The documents named, positional or `--spec`, bundled names resolved (None: the bundled specs)."""
    from .._spec.bundled import resolve_document

    given = [*(getattr(args, "documents", None) or ()), *(args.spec or ())]
    return [resolve_document(s) for s in given] if given else None


def serve_front(mock: MockApp, app: Any) -> tuple[Any, None]:
    """`specmock serve`: the contract endpoints (the Pact export) in front of the mock."""
    from .routes import ContractRoutes

    return ContractRoutes(app, mock), None


def _fail(message: str) -> int:
    print(f"specmock: {message}", file=sys.stderr)
    return 2


def run_proxy(args: argparse.Namespace, serve: Callable[..., int]) -> int:
    """`specmock proxy`: `serve` (the command line's) runs the mock with the proxy in front."""
    from .drift import DriftLog
    from .proxy import ProxyApp
    from .record import Recorder
    from .report import checks_by_operation, junit_xml, report_json, write_atomically
    from .routes import ContractRoutes
    from .upstream import Upstream

    if args.workers != 1 or args.state is not None:
        return _fail("proxy runs in one process with its own journal: --workers and --state are for serve")
    try:
        upstream = Upstream(args.upstream, args.timeout, args.max_upstream_body)
    except ValueError as exc:
        return _fail(str(exc))
    args.spec = [str(p) for p in spec_files(args) or []] or None
    args.documents = []  # now in --spec; serve reads both, and would load each positional one twice
    drift = DriftLog()
    recorder = Recorder(_without_credentials(args.upstream)) if args.record else None

    def front(mock: MockApp, _served: Any) -> tuple[Any, Callable[[], Awaitable[None]]]:
        proxy = ProxyApp(mock, upstream, drift, recorder, max_body=args.max_body)

        async def stop() -> None:
            await upstream.aclose()
            findings = drift.items()
            if args.report:
                write_atomically(args.report, report_json(findings))
            if args.junit:
                operations = sorted({e.operation_id for e in mock.journal.entries() if e.operation_id})
                write_atomically(args.junit, junit_xml("specmock proxy", checks_by_operation(findings, operations)))
            if recorder is not None:
                recorder.write(args.record)

        return ContractRoutes(proxy, mock, drift), stop

    return serve(args, front)


def _without_credentials(url: str) -> str:
    import httpx

    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None, query=None))


def run_verify(args: argparse.Namespace, *_: Any) -> int:
    from .verify import verify

    try:
        return asyncio.run(verify(args, spec_files(args), headers_of(args)))
    except UsageError as exc:
        return _fail(str(exc))


def run_replay(args: argparse.Namespace, *_: Any) -> int:
    from .replay import replay

    try:
        return asyncio.run(replay(args, spec_files(args), headers_of(args)))
    except UsageError as exc:
        return _fail(str(exc))
