"""specmock: a high-fidelity, stateful mock of AppSec+, Versori Connect and SD Elements.

from specmock import MockApp
app = MockApp(seed=1)          # an ASGI app serving every bundled spec
"""

from .app import MockApp, load_specs
from .clock import Clock, MockClock, SystemClock
from .errors import LoadError, Problem, SpecmockError

__all__ = ["Clock", "LoadError", "MockApp", "MockClock", "Problem", "SpecmockError", "SystemClock", "load_specs"]
__version__ = "0.1.0"
