"""One `specmock serve --workers N` worker: the app built from the command line the parent handed over.

uvicorn imports this module in each worker process (serve.WORKER_FACTORY names it),
so the parent's arguments are parsed again here, with the same checks.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from ..slow_clients import BurstLogger
from ..workers import worker_argv
from . import parse_args
from .serve import build_app


def worker_app() -> Any:
    """The app of one worker (uvicorn calls this factory in each process, in its event loop)."""
    args = parse_args(worker_argv())
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    asyncio.get_running_loop().set_exception_handler(BurstLogger())
    return build_app(args)
