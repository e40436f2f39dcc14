"""specmock: a high-fidelity, stateful mock of AppSec+, Versori Connect and SD Elements.

from specmock import MockApp
app = MockApp(seed=1)          # an ASGI app serving every bundled spec

The names below are imported on first use (PEP 562), so `import specmock` and the
`specmock` command start without loading Starlette, jsonschema or Faker.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import MockApp, load_specs
    from .clock import Clock, MockClock, SystemClock
    from .errors import LoadError, Problem, SpecmockError

__all__ = ["Clock", "LoadError", "MockApp", "MockClock", "Problem", "SpecmockError", "SystemClock", "load_specs"]
__version__ = "0.1.0"

_WHERE = {
    "MockApp": ".app",
    "load_specs": ".app",
    "Clock": ".clock",
    "MockClock": ".clock",
    "SystemClock": ".clock",
    "LoadError": ".errors",
    "Problem": ".errors",
    "SpecmockError": ".errors",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'specmock' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
