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
    from ._clock import Clock, MockClock
    from ._errors import LoadError, Problem, SpecmockError
    from ._server.admin_guard import AdminSettings
    from ._server.app import MockApp, load_specs
    from ._testing.conformance import ResponseChecker
    from ._testing.handle import Handle
    from ._testing.transport import AsyncASGITransport, SyncASGITransport

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
    "AdminSettings": "._server.admin_guard",
    "MockApp": "._server.app",
    "load_specs": "._server.app",
    "Clock": "._clock",
    "MockClock": "._clock",
    "LoadError": "._errors",
    "Problem": "._errors",
    "SpecmockError": "._errors",
    "Handle": "._testing.handle",
    "ResponseChecker": "._testing.conformance",
    "AsyncASGITransport": "._testing.transport",
    "SyncASGITransport": "._testing.transport",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'specmock' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
