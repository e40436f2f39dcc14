"""One `specmock serve --workers N` worker: the app built from the command line the parent handed over.

uvicorn imports this module in each worker process (serve.WORKER_FACTORY names it),
so the parent's arguments are parsed again here, with the same checks.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from . import parse_args
from .serve import WORKER_ARGV, build_app, served_app


def worker_app() -> Any:
    """The app of one worker (uvicorn calls this factory in each process)."""
    args = parse_args(json.loads(os.environ[WORKER_ARGV]))
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    return served_app(build_app(args))
