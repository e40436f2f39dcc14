"""Which scenario is in force, and the sources a scenario can come from.

A scenario source is a bundled scenario's name, a file, YAML or JSON text, a
dict or an already compiled `Scenario`. The registry resolves any of them
against one catalog, holds the active scenario, and compiles each bundled
scenario a request picks by header once. Choosing never applies anything by
itself: the app decides when a resolved scenario takes effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import LoadError
from .._spec.bundled import bundled_dir
from .._spec.catalog import Catalog
from .._suggest import did_you_mean
from .loader import ScenarioText, load_scenario
from .model import Scenario

ScenarioSource = Path | str | dict[str, Any] | Scenario | ScenarioText


def bundled_scenario_files() -> dict[str, Path]:
    """The scenarios that ship with specmock, by name."""
    folder = bundled_dir("scenarios")
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


class ScenarioRegistry:
    """The active scenario, and every scenario source resolved against `catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.active: Scenario | None = None
        self._bundled: dict[str, Scenario] = {}

    def resolve(self, source: ScenarioSource, seed: int = 0) -> Scenario:
        """Check a scenario against the catalog without applying it; LoadError (file:line) if it is broken.

        A str is a bundled name, else a file name, else (with a newline) YAML text.
        """
        if isinstance(source, Scenario):
            return source
        if isinstance(source, str) and "\n" not in source and not Path(source).exists():
            files = bundled_scenario_files()
            if source in files:
                return load_scenario(files[source], self.catalog, seed=seed)
            if "/" not in source and not source.endswith((".yaml", ".yml", ".json")):
                hint = did_you_mean(source, files)
                raise LoadError(
                    source, None, f"no such scenario file or bundled scenario{hint} (bundled: {', '.join(files)})"
                )
        return load_scenario(source, self.catalog, seed=seed)

    def bundled(self, name: str) -> Scenario:
        """A bundled scenario by name, compiled once; KeyError naming the bundled ones if there is none."""
        if name not in self._bundled:
            files = bundled_scenario_files()
            if name not in files:
                raise KeyError(f"no bundled scenario {name!r}{did_you_mean(name, files)} (bundled: {', '.join(files)})")
            self._bundled[name] = load_scenario(files[name], self.catalog)
        return self._bundled[name]

    def restart_counters(self) -> None:
        """Every rule counter back to zero, in the active scenario and the bundled ones (a reset)."""
        if self.active is not None:
            self.active = self.active.fresh()
        self._bundled = {name: scenario.fresh() for name, scenario in self._bundled.items()}
