"""The `specmock` command: serve the mock, list what it serves, check specs and scenarios.

One grammar for every command: documents are positional (`specmock serve spec.yaml`),
`--spec` is the same thing and repeatable, and a document is a file or a bundled
spec's name. Each command lives in a module of this package that registers itself
with `add_to(subparsers)`, setting `run` (and optionally `prepare`) as defaults;
a new command is one more entry in `COMMAND_MODULES`.

Exit statuses: 0 done; 1 the command ran and failed (a port in use, permission
denied, `validate` found problems); 2 usage (the command line, or a file or name it
gives, must change); 130 interrupted. Never a traceback: an unexpected error is one
line too (set SPECMOCK_DEBUG=1 to see its traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import contract_commands, inspect, serve
from .args import FAILED, USAGE, Parser, UsageError
from .serve import build_app, is_loopback, server_stack, state_problem

__all__ = [
    "build_app",
    "is_loopback",
    "main",
    "parse_args",
    "parser",
    "server_stack",
    "state_problem",
]

#: Modules that register subcommands, in the order `--help` lists them. Each has `add_to(subparsers)`.
COMMAND_MODULES: list[Any] = [serve, inspect, contract_commands]


def specmock_version() -> str:
    """The installed distribution's version (a source checkout without metadata says so).
    importlib.metadata is imported here, not at start: it is ~20 ms of every command's start-up."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("specmock")
    except PackageNotFoundError:
        return "unknown (not installed)"


class _Version(argparse.Action):
    """`--version`, read from the installed metadata only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(f"specmock {specmock_version()}")
        parser.exit()


def parser() -> argparse.ArgumentParser:
    """The whole command line."""
    root = Parser(prog="specmock", description="A stateful mock server driven by OpenAPI specs.")
    root.add_argument("--version", action=_Version, help="show the installed version and exit")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_to(sub)
    return root


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, with each command's `prepare` applied (e.g. `serve`'s environment variables).
    Documents may stand on both sides of the flags (`serve a.yaml --port 0 b.yaml`)."""
    root = parser()
    args, extras = root.parse_known_args(argv)
    if extras and hasattr(args, "documents") and not any(e.startswith("-") for e in extras):
        args.documents = [*(args.documents or ()), *extras]  # documents on both sides of the flags
    elif extras:  # reported by the command's own parser, so the hint names its flags and its --help
        commands = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(extras)}")
    prepare = getattr(args, "prepare", None)
    if prepare is not None:
        prepare(args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """The command line's entry point. Ctrl-C at any moment (while loading specs, or while
    serving: uvicorn then finishes its graceful shutdown and re-raises it) ends the
    command with one line and exit status 130, not a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("specmock: interrupted, stopped", file=sys.stderr)
        return 130
    except UsageError as exc:
        print(f"specmock: {exc}", file=sys.stderr)
        return USAGE
    except OSError as exc:  # a file or socket the machine refused while running
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"specmock: {exc.strerror or exc}{where}: check the path and its permissions", file=sys.stderr)
        return FAILED
    except Exception as exc:
        if os.environ.get("SPECMOCK_DEBUG"):
            raise
        print(
            f"specmock: unexpected {type(exc).__name__}: {exc} (a bug: please report it; "
            "SPECMOCK_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return FAILED


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
