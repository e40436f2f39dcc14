"""The command line's grammar: value types with their ranges, environment defaults, one-line usage errors.

Invariants: every range is checked by argparse (a flag's `type=`) or, for an
environment variable, by the same function, so `--port 99999` and
`SPECMOCK_PORT=99999` are refused alike before anything starts; every usage
error is one line on stderr and exit status 2, with a hint of what to do.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..._spec.bundled import resolve_document
from ..._spec.lifecycle import parse_duration
from ..._suggest import did_you_mean

#: Exit statuses: the command line (or a file it names) cannot be used / the command ran and failed.
USAGE = 2
FAILED = 1
#: `--ref-root DIR` on every command that loads documents (verify and replay say it too).
REF_ROOT_HELP = "external $refs may read files under DIR (default: each document's folder tree; also SPECMOCK_REF_ROOT)"


class UsageError(Exception):
    """The command line, or the environment variable standing for a flag, cannot be used (exit 2)."""


#: The help of `--strict`, the same on every command that loads documents.
STRICT_HELP = "refuse a document for anything a lenient load only warns about (docs/loading.md)"


def port(raw: str) -> int:
    """A TCP port, 0 (pick a free one) to 65535."""
    value = _integer(raw)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535 (0 picks a free one), not {raw}")
    return value


def count(raw: str) -> int:
    """A whole number, 1 or more (workers, journal entries, items, connections)."""
    value = _integer(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {raw}")
    return value


def seed(raw: str) -> int:
    """Any whole number."""
    return _integer(raw)


_SIZE = re.compile(r"^\s*(\d+)\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1024**2, "mb": 1000**2, "mib": 1024**2}
_SIZE_UNITS |= {"g": 1024**3, "gb": 1000**3, "gib": 1024**3}


def size(raw: str) -> int:
    """Bytes: `65536`, `64KiB`, `10MiB`, `1GB` (0 or more)."""
    found = _SIZE.match(raw)
    if found is None:
        raise argparse.ArgumentTypeError(f"must be a size in bytes such as 65536, 64KiB or 10MiB, not {raw!r}")
    return int(found.group(1)) * _SIZE_UNITS[(found.group(2) or "b").lower()]


def duration(raw: str) -> float:
    """Seconds above zero: `10`, `2.5`, `500ms`, `2s`, `1m`."""
    try:
        value = parse_duration(float(raw) if _NUMBER.match(raw) else raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a duration such as 10, 2.5, 500ms or 1m, not {raw!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above zero, not {raw}")
    return value


_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


def _integer(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {raw!r}") from None


def flag(raw: str) -> bool:
    """An environment variable's yes or no."""
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"must be one of 1/0, true/false, yes/no, on/off, not {raw!r}")


def listed(raw: str) -> list[str]:
    """An environment variable standing for a repeatable flag: comma-separated values."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def env(name: str, default: Any = None, cast: Callable[[str], Any] = str) -> Any:
    """`SPECMOCK_<name>` read with the flag's own type (and range), else `default`."""
    raw = os.environ.get(f"SPECMOCK_{name}")
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise UsageError(f"SPECMOCK_{name}={raw!r}: {exc}; fix or unset it") from None


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line that names the command, the flag and what to do."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument ([^:]+): ", r"\1 ", message)
        message = self._suggest(message)
        print(f"{self.prog}: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(USAGE)

    def _suggest(self, message: str) -> str:
        """A near miss of an option or a command gets the nearest known spelling."""
        unknown = re.match(r"^unrecognized arguments: (\S+)", message)
        if unknown and unknown.group(1).startswith("-"):
            word = unknown.group(1).split("=")[0]
            return message + did_you_mean(word, self._option_names())
        if unknown:
            return f"{message}: this command takes no such argument"
        choice = re.match(r"^(\S+) invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if choice:
            flag, word, options = choice.groups()
            known = [c.strip(" '") for c in options.split(",")]
            subject = "no command" if flag == "COMMAND" else f"{flag} takes no"
            return f"{subject} {word!r}{did_you_mean(word, known)}; choose from {', '.join(known)}"
        return message

    def _option_names(self) -> Sequence[str]:
        names = list(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    names += list(sub._option_string_actions)
        return names


def add_ref_root(parser: argparse.ArgumentParser) -> None:
    """`--ref-root DIR`: where a document's external `$ref`s may read (as SPECMOCK_REF_ROOT)."""
    parser.add_argument(
        "--ref-root",
        type=Path,
        metavar="DIR",
        help=REF_ROOT_HELP,
    )


def add_documents(parser: argparse.ArgumentParser, what: str) -> None:
    """The document arguments every command that loads specs takes alike: positional
    documents, `--spec` (repeatable, the same thing), `--overlay` and `--ref-root`. A
    document is a file or a bundled spec's name (appsecplus, versori-connect, sdelements)."""
    parser.add_argument(
        "documents",
        nargs="*",
        metavar="DOCUMENT",
        help=f"an OpenAPI 3.0/3.1 file or a bundled spec's name (appsecplus, versori-connect, sdelements) {what}",
    )
    parser.add_argument(
        "--spec",
        action="append",
        metavar="DOCUMENT",
        help="the same as a positional DOCUMENT (repeatable; kept for scripts that use it)",
    )
    parser.add_argument(
        "--overlay",
        action="append",
        metavar="FILE",
        help="an Overlay 1.0 (or plain x-specmock YAML) applied to the spec it extends (repeatable)",
    )
    add_ref_root(parser)


def documents_of(args: argparse.Namespace) -> list[str] | None:
    """Positional documents then `--spec` ones, or None (the bundled specs) when neither is given."""
    given = [*(args.documents or ()), *(args.spec or ())]
    return given or None


def resolved_documents(args: argparse.Namespace) -> list[str] | None:
    """`documents_of` as paths, bundled names resolved; a LoadError for a name that is neither."""
    given = documents_of(args)
    return None if given is None else [str(resolve_document(d)) for d in given]
