"""`@pytest.mark.specmock(...)` and the --specmock-* options: checked, their files found, mistakes located.

Invariants: a relative `spec=` or `overlay=` is found from the folder of the test file
that uses the marker (then from pytest's rootdir, then as a bundled spec's name), so a
suite runs the same from any directory; every mistake in a marker is a `MarkerError`
whose text names the test file and line, so the plugin reports it as one pytest error
instead of a traceback.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .._errors import LoadError
from .._spec.bundled import resolve_document
from .._suggest import did_you_mean

OPTIONS = ("scenario", "seed", "clock", "strict", "spec", "overlay")
CLOCKS = ("real", "frozen")


class MarkerError(Exception):
    """A marker that cannot be used; str() is `file:line: test: what is wrong`."""


def where(node: Any) -> str:
    """`file:line` of the marker on this test (the decorator's line when it is one), else of the test."""
    path, lineno, _ = node.location
    function = getattr(node, "function", None)
    if function is not None:
        try:
            lines, first = inspect.getsourcelines(function)
        except (OSError, TypeError):
            return f"{path}:{lineno + 1}"
        for offset, text in enumerate(lines):
            if "mark.specmock" in text:
                return f"{path}:{first + offset}"
            if text.lstrip().startswith(("def ", "async def ")):
                break
    return f"{path}:{lineno + 1}"


def fail(node: Any, reason: str) -> MarkerError:
    """The error for `reason` about this test's marker, located."""
    return MarkerError(f"{where(node)}: {node.name}: {reason}")


def marker_options(node: Any) -> dict[str, Any]:
    """The marker's options, checked: known names only, no positional arguments, a known clock."""
    marker = node.get_closest_marker("specmock")
    if marker is None:
        return {}
    if marker.args:
        raise fail(
            node, f"@pytest.mark.specmock takes keyword options only ({', '.join(OPTIONS)}), not {marker.args!r}"
        )
    options = dict(marker.kwargs)
    for name in options:
        if name not in OPTIONS:
            hint = did_you_mean(name, OPTIONS)
            raise fail(node, f"@pytest.mark.specmock: unknown option {name!r}{hint} ({', '.join(OPTIONS)})")
    if options.get("clock", "real") not in CLOCKS:
        raise fail(node, f"@pytest.mark.specmock: clock={options['clock']!r} is not one of {', '.join(CLOCKS)}")
    return options


def marker_files(value: Any, node: Any, rootpath: Path) -> tuple[str, ...]:
    """`spec=`/`overlay=` (one or a list) as absolute paths, each found from the test file's folder
    first, then from rootdir, then as a bundled spec's name; a MarkerError naming what was tried."""
    items = [] if value is None else [value] if isinstance(value, (str, Path)) else list(value)
    return tuple(str(_find(Path(item), node, rootpath)) for item in items)


def _find(item: Path, node: Any, rootpath: Path) -> Path:
    if item.is_absolute():
        return item
    test_folder = Path(str(node.path)).parent
    for base in (test_folder, rootpath):
        if (base / item).exists():
            return (base / item).resolve()
    try:
        found = resolve_document(str(item))
    except LoadError as exc:
        raise fail(node, f"@pytest.mark.specmock: {exc.reason}") from None
    if not found.exists():
        raise fail(
            node, f"@pytest.mark.specmock: no file {str(item)!r} beside the test ({test_folder}) or in {rootpath}"
        )
    return found.resolve()


def located(node: Any, exc: LoadError) -> MarkerError:
    """A spec or scenario the marker names that does not load, reported at the marker."""
    return fail(node, f"@pytest.mark.specmock: {exc}")


def option_problem(specs: list[str], scenarios: list[str]) -> str | None:
    """Why --specmock-spec or --specmock-scenario cannot be used (a missing file, an unknown
    name), or None: checked once when pytest starts, so the run stops with one usage line
    instead of every test failing alike."""
    for spec in specs:
        try:
            if not resolve_document(spec).exists():
                return f"--specmock-spec {spec}: no such file"
        except LoadError as exc:
            return f"--specmock-spec {exc}"
    if scenarios:
        from .._scenario.registry import bundled_scenario_files

        bundled = bundled_scenario_files()
        for scenario in scenarios:
            if scenario not in bundled and not Path(scenario).is_file():
                hint = did_you_mean(scenario, bundled)
                return (
                    f"--specmock-scenario {scenario}: no such file or bundled scenario{hint} "
                    f"(bundled: {', '.join(bundled)})"
                )
    return None
