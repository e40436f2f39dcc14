"""specmock's pytest plugin: the mock in-process, reset before every test.

Fixtures:
    specmock         a Handle on an in-process mock (state, journal and clock reset per test),
                     with `.client` (httpx.Client) and `.async_client` (httpx.AsyncClient): no sockets.
    specmock_server  the same, also served by uvicorn on 127.0.0.1, port 0: `.url`.

    @pytest.mark.specmock(scenario="auth-errors", seed=3, clock="frozen", strict=True)
    @pytest.mark.specmock(spec="openapi.yaml", overlay="behaviour.yaml")   # your own API

Options: --specmock-spec, --specmock-overlay, --specmock-seed, --specmock-scenario,
--specmock-coverage, --specmock-coverage-json, --specmock-pact (with --specmock-pact-consumer
and --specmock-pact-provider) and --specmock-journal (files written at the session's end).
A spec given by option or marker replaces the bundled ones (any OpenAPI 3.0/3.1 document,
inferred when it has no x-specmock, or a bundled spec's name); each set of specs gets its own
app, built once. A marker's relative `spec=`/`overlay=` is found beside the test file that uses
it (then from rootdir), so the suite runs alike from any folder; a marker that cannot be used is
one error naming the test and the marker's file:line (testing/marker.py). Coverage counts every
app's calls: the report covers every family any test was served.
The app is built once per session (per xdist worker); a test pays only for the reset.

Seeds: an explicit seed (the marker's `seed=`, else --specmock-seed) wins; otherwise
the scenario's own seed; otherwise 0: the same rule as `specmock serve`.

This module is loaded into every pytest run of an environment where specmock is
installed, including runs that never use it: it imports only pytest at load time
(the mock itself is imported when a fixture first needs it), and its pytest-xdist
hooks are registered only when xdist is there.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .._runtime.journal import Entry
    from .._scenario.model import Scenario
    from .._server.app import MockApp
    from .handle import Handle

_KEY = pytest.StashKey["SpecmockSession"]()
_SPECS = pytest.StashKey["SpecSet"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("specmock", "specmock API mock")
    group.addoption(
        "--specmock-spec",
        action="append",
        default=[],
        metavar="FILE",
        help="serve this OpenAPI document instead of the bundled specs (repeatable)",
    )
    group.addoption(
        "--specmock-overlay", action="append", default=[], metavar="FILE", help="an overlay applied to the spec"
    )
    group.addoption(
        "--specmock-seed",
        type=int,
        default=None,
        help="seed of generated data and chaos (default: the scenario's seed, else 0)",
    )
    group.addoption(
        "--specmock-scenario", action="append", default=[], help="scenario for every test (file or bundled name)"
    )
    group.addoption(
        "--specmock-state",
        metavar="URL",
        default=None,
        help="keep the mock's state in Redis (redis://HOST:PORT/DB), shared with servers the suite starts",
    )
    group.addoption(
        "--specmock-state-namespace",
        metavar="NAME",
        default=None,
        help="Redis key prefix; {worker} is the pytest-xdist worker (default: derived from the documents)",
    )
    group.addoption("--specmock-coverage", action="store_true", help="report which operations and statuses ran")
    group.addoption("--specmock-coverage-json", metavar="PATH", help="also write the coverage report as JSON")
    group.addoption(
        "--specmock-pact",
        metavar="PATH",
        help="write the session's exchanges as a Pact v4 file (each test a run from a fresh provider)",
    )
    group.addoption("--specmock-pact-consumer", metavar="NAME", default="consumer", help="the pact's consumer name")
    group.addoption("--specmock-pact-provider", metavar="NAME", default="provider", help="the pact's provider name")
    group.addoption(
        "--specmock-journal", metavar="PATH", help="write the session's journal as JSON (for `specmock replay`)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "specmock(scenario=None, seed=None, clock='real', strict=True, spec=None, overlay=None): "
        "configure the specmock fixture for a test",
    )
    specs, scenarios = config.getoption("specmock_spec"), config.getoption("specmock_scenario")
    if specs or scenarios:
        from .marker import option_problem

        problem = option_problem(specs, scenarios)
        if problem is not None:
            raise pytest.UsageError(problem)
    config.stash[_KEY] = SpecmockSession(config)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistCoverage(config), "specmock-xdist")


class SpecmockSession:
    """Per-session (per-worker) state: the app, compiled scenarios, the server, coverage."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._handles: dict[SpecSet, Handle] = {}
        self._scenarios: dict[str, Scenario] = {}
        self.servers: dict[SpecSet, _ThreadedServer] = {}
        self.covered: dict[str, dict[str, set[str]]] = {}
        #: Each test's journal, kept when a pact or a journal file is asked for.
        self.runs: list[tuple[SpecSet, list[Entry]]] = []
        #: Under xdist (the controller): the spec sets the workers served.
        self.worker_spec_sets: list[SpecSet] = []

    @property
    def default_specs(self) -> SpecSet:
        """The specs given on the command line (empty: the bundled ones)."""
        return _spec_set(self.config.getoption("specmock_spec"), self.config.getoption("specmock_overlay"))

    @property
    def handle(self) -> Handle:
        return self.handle_for(self.default_specs)

    def handle_for(self, specs: SpecSet) -> Handle:
        """The handle on the app serving `specs`, built the first time it is asked for."""
        if specs not in self._handles:
            from .._server.app import MockApp
            from .handle import Handle

            paths, overlays = specs
            url = self.config.getoption("specmock_state")
            state: Any = None
            if url:
                from .._runtime.state.redis import RedisState

                worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
                named = self.config.getoption("specmock_state_namespace")
                state = RedisState(url, named.replace("{worker}", worker) if named else None)
            seed = self.config.getoption("specmock_seed")
            app = MockApp(list(paths) or None, overlays=overlays, seed=seed, state=state)
            self._handles[specs] = Handle(app)
        return self._handles[specs]

    def scenario(self, handle: Handle, source: Any) -> Scenario:
        """`source` compiled against the app of `handle` (once per app and source)."""
        key = f"{id(handle)}/{json.dumps(source, sort_keys=True, default=str)}"
        if key not in self._scenarios:
            self._scenarios[key] = handle.app.check_scenario(source)
        return self._scenarios[key]

    @property
    def spec_sets(self) -> list[SpecSet]:
        """Every set of specs this session served (the command line's first), for the coverage report."""
        return list(dict.fromkeys([self.default_specs, *self._handles]))

    def record_coverage(self, handle: Handle) -> None:
        from .._runtime.coverage import UNDELIVERED

        for entry in handle.journal:
            if entry.operation_id and entry.outcome not in UNDELIVERED:
                statuses = self.covered.setdefault(entry.family, {}).setdefault(entry.operation_id, set())
                statuses.add(str(entry.status))

    def record_run(self, specs: SpecSet, handle: Handle) -> None:
        if self.config.getoption("specmock_pact") or self.config.getoption("specmock_journal"):
            self.runs.append((specs, list(handle.journal)))

    def write_exchanges(self) -> None:
        """The pact and the journal files asked for (one per xdist worker, named after it)."""
        pact_path, journal_path = self.config.getoption("specmock_pact"), self.config.getoption("specmock_journal")
        if pact_path:
            from .._contract.pact import PactWriter, dumps
            from .._contract.report import write_atomically

            consumer = self.config.getoption("specmock_pact_consumer")
            provider = self.config.getoption("specmock_pact_provider")
            document: dict[str, Any] = {}
            for specs in dict.fromkeys(specs for specs, _ in self.runs):
                writer = PactWriter(self.handle_for(specs).app.router)
                part = writer.pact(consumer, provider, [run for s, run in self.runs if s == specs])
                if document:
                    document["interactions"] += part["interactions"]
                else:
                    document = part
            if document:
                write_atomically(_per_worker(Path(pact_path), self.config), dumps(document))
        if journal_path:
            from .._contract.report import write_atomically
            from .._encoding import encode

            entries = [entry.as_dict() for _, run in self.runs for entry in run]
            write_atomically(_per_worker(Path(journal_path), self.config), encode({"entries": entries}).decode())

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        for handle in self._handles.values():
            handle.close()


SpecSet = tuple[tuple[str, ...], tuple[str, ...]]  # (spec files, overlay files); no specs: the bundled ones


def _per_worker(path: Path, config: pytest.Config) -> Path:
    """`path`, or in a pytest-xdist worker `name-gw0.ext`: each worker writes its own file.

    The worker is read from this session's config, not from PYTEST_XDIST_WORKER: a pytest
    run started from inside a worker (pytester, a subprocess) inherits that variable but
    is no worker, and must write the file it was asked for."""
    worker = getattr(config, "workerinput", {}).get("workerid")
    return path.with_name(f"{path.stem}-{worker}{path.suffix}") if worker else path


def _spec_set(specs: Any, overlays: Any) -> SpecSet:
    def paths(value: Any) -> tuple[str, ...]:
        from .._spec.bundled import resolve_document

        items = [] if value is None else [value] if isinstance(value, (str, Path)) else list(value)
        return tuple(str(resolve_document(str(item)).resolve()) for item in items)

    return paths(specs), paths(overlays)


@pytest.fixture
def specmock(request: pytest.FixtureRequest) -> Iterator[Handle]:
    """An in-process mock of every bundled API, reset before the test."""
    from .._errors import LoadError
    from .marker import MarkerError, located, marker_files, marker_options

    session: SpecmockSession = request.config.stash[_KEY]
    mistake: MarkerError | None = None
    try:  # every mistake in the marker (or a file it names) is one error at the marker's line
        options = marker_options(request.node)
        specs = session.default_specs
        if "spec" in options or "overlay" in options:
            rootpath = request.config.rootpath
            spec_files = marker_files(options["spec"], request.node, rootpath) if "spec" in options else specs[0]
            specs = (spec_files, marker_files(options.get("overlay"), request.node, rootpath))
        handle = session.handle_for(specs)
        scenario = options.get("scenario", request.config.getoption("specmock_scenario") or None)
        sources = scenario if isinstance(scenario, list) else [scenario] if scenario is not None else []
        compiled = [session.scenario(handle, s) for s in sources]
    except MarkerError as exc:
        mistake = exc
    except LoadError as exc:
        mistake = located(request.node, exc)
    if mistake is not None:  # failed outside the handler, so pytest prints the one line once
        pytest.fail(str(mistake), pytrace=False)
    request.node.stash[_SPECS] = specs
    app = handle.app
    scenario = options.get("scenario", request.config.getoption("specmock_scenario") or None)
    sources = scenario if isinstance(scenario, list) else [scenario] if scenario is not None else []
    app.clock.reset()
    if options.get("clock", "real") == "frozen":
        app.clock.freeze()
    if compiled:
        app.load_scenario(*compiled, reset=False)
    elif app.scenario is not None:
        app.clear_scenario(reset=False)
    app.explicit_seed = options.get("seed", request.config.getoption("specmock_seed"))
    handle.reset()
    handle.allow_unmatched = handle.allow_invalid = not options.get("strict", True)
    handle.client.cookies.clear()
    yield handle
    session.record_coverage(handle)
    session.record_run(specs, handle)
    unexpected = handle.unexpected()
    if unexpected:
        from .handle import describe

        lines = "\n".join(f"  {describe(e)}" for e in unexpected)
        pytest.fail(
            f"specmock saw {len(unexpected)} request(s) outside the contract:\n{lines}\n"
            "If the test means to send them, call specmock.expect_unmatched() / specmock.expect_invalid(), "
            "or mark it @pytest.mark.specmock(strict=False).",
            pytrace=False,
        )


@pytest.fixture
def specmock_server(specmock: Handle, request: pytest.FixtureRequest) -> Handle:
    """The same mock, also served over HTTP on 127.0.0.1 (started once per session): `.url`."""
    session: SpecmockSession = request.config.stash[_KEY]
    specs = request.node.stash[_SPECS]
    if specs not in session.servers:
        session.servers[specs] = _ThreadedServer(specmock.app)
    specmock.url = session.servers[specs].url
    return specmock


class _ThreadedServer:
    """uvicorn in a daemon thread, on 127.0.0.1 and a free port."""

    def __init__(self, app: MockApp) -> None:
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="specmock-server", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("specmock's server thread died while starting")
            self._thread.join(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


# -- coverage -----------------------------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    state: SpecmockSession = session.config.stash[_KEY]
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand coverage to the controller
        workeroutput["specmock_covered"] = {
            fam: {op: sorted(statuses) for op, statuses in ops.items()} for fam, ops in state.covered.items()
        }
        workeroutput["specmock_spec_sets"] = [[list(paths), list(overlays)] for paths, overlays in state.spec_sets]
    state.write_exchanges()
    state.close()


class _XdistCoverage:
    """pytest-xdist's controller side, registered only where xdist is installed: pytest
    refuses a plugin that implements a hook nobody declared (`pytest_testnodedown`)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Merge a worker's coverage into the controller's."""
        state: SpecmockSession = self.config.stash[_KEY]
        for fam, ops in node.workeroutput.get("specmock_covered", {}).items():
            for op, statuses in ops.items():
                state.covered.setdefault(fam, {}).setdefault(op, set()).update(statuses)
        for paths, overlays in node.workeroutput.get("specmock_spec_sets", []):
            state.worker_spec_sets.append((tuple(paths), tuple(overlays)))


def coverage_report(covered: dict[str, dict[str, set[str]]], *spec_sets: SpecSet) -> dict[str, Any]:
    """Per family served by any of `spec_sets` (none: the bundled specs), each family once:
    every operation, its documented statuses, which ran and which never did."""
    from .._runtime.coverage import coverage_report as report
    from .._spec.spec_loader import load_specs

    families: dict[str, Any] = {}
    for paths, overlays in dict.fromkeys(spec_sets or [((), ())]):
        if not paths:
            from .._spec.bundled import bundled_specs

            paths = tuple(str(p) for p in bundled_specs())
        for spec in load_specs([Path(p) for p in paths], overlays):
            families.setdefault(spec.family.name, spec.family)
    return report(families.values(), covered)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not (config.getoption("specmock_coverage") or config.getoption("specmock_coverage_json")):
        return
    if getattr(config, "workerinput", None) is not None:
        return
    state: SpecmockSession = config.stash[_KEY]
    report = coverage_report(state.covered, *state.spec_sets, *state.worker_spec_sets)
    path = config.getoption("specmock_coverage_json")
    if path:
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
    if not config.getoption("specmock_coverage"):
        return
    write = terminalreporter.write_line
    terminalreporter.section("specmock contract coverage")
    for family, data in report.items():
        s = data["summary"]
        write(
            f"{family}: {s['called']}/{s['operations']} operations called, "
            f"{s['exercised']}/{s['statuses']} documented statuses exercised"
        )
        for op_id, op in data["operations"].items():
            if not op["called"]:
                write(f"  {op_id:<28} never called")
                continue
            line = f"  {op_id:<28} exercised {' '.join(op['exercised']) or '-'}"
            if op["missing"]:
                line += f"; never: {' '.join(op['missing'])}"
            if op["undocumented"]:
                line += f"; UNDOCUMENTED: {' '.join(op['undocumented'])}"
            write(line)
    if path:
        write(f"specmock coverage written to {path}")
