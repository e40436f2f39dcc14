"""specmock: a high-fidelity, stateful mock of AppSec+, Versori Connect and SD Elements.

    from specmock import MockApp
    app = MockApp(seed=1)          # an ASGI app serving every bundled spec

What this module exports is the public API (pinned by tests/test_public_api.py);
everything else is internal and may change. The names are imported on first use
(PEP 562), so `import specmock`, the `specmock` command and the pytest plugin start
without loading Starlette, jsonschema or Faker.

The package is layered, and imports point one way (tests/test_layers.py checks it):
base modules (errors, clock, encoding) <- spec <- runtime <- scenario <- server <- testing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import Clock, MockClock
    from .errors import LoadError, Problem, SpecmockError
    from .server.admin import AdminSettings
    from .server.app import MockApp, load_specs
    from .testing.conformance import ResponseChecker
    from .testing.handle import Handle
    from .testing.transport import AsyncASGITransport, SyncASGITransport

__all__ = [
    "AdminSettings",
    "AsyncASGITransport",
    "Clock",
    "Handle",
    "LoadError",
    "MockApp",
    "MockClock",
    "Problem",
    "ResponseChecker",
    "SpecmockError",
    "SyncASGITransport",
    "load_specs",
]
__version__ = "0.1.0"

_WHERE = {
    "AdminSettings": ".server.admin",
    "MockApp": ".server.app",
    "load_specs": ".server.app",
    "Clock": ".clock",
    "MockClock": ".clock",
    "LoadError": ".errors",
    "Problem": ".errors",
    "SpecmockError": ".errors",
    "Handle": ".testing.handle",
    "ResponseChecker": ".testing.conformance",
    "AsyncASGITransport": ".testing.transport",
    "SyncASGITransport": ".testing.transport",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'specmock' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
