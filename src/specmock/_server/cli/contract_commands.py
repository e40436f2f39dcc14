"""`specmock proxy`, `verify` and `replay`, registered with this command line.

The contract package declares the three commands (specmock._contract.cli); this module
hands them what the command line owns: serve's flags, which `proxy` takes every one
of, and `serve` itself, which `proxy` runs with the proxy in front of the mock.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..._contract import cli as contract_cli
from . import serve
from .serve_args import add_serve_flags, apply_repeatable_env


def add_to(sub: Any) -> None:
    """Register `proxy`, `verify` and `replay`."""
    serve_flags = argparse.ArgumentParser(add_help=False)
    add_serve_flags(serve_flags)
    contract_cli.add_commands(sub, serve_flags)
    sub.choices["proxy"].set_defaults(run=run, prepare=apply_repeatable_env)
    for name in ("verify", "replay"):
        sub.choices[name].set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """The contract command's own runner, handed `serve` to run a mock with."""
    return int(args.contract(args, serve.run))
