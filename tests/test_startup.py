"""Start-up: what building the app imports, lazily built Faker, and no disk cache.

Speed is shown by benchmarks/bench_startup.py, never asserted here; these tests pin
the behaviour that makes it fast (no eager import) and the one that keeps it
simple: a start reads only the files it is given and writes nothing (the parse
cache and the Faker "tape" were removed, issues 22 and 23: they saved about
60 and 30 ms of CPU per start and could be tampered with).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from faker import Faker

from specmock._runtime.fakedata import FakeData

# -- Faker is built on first use, with the values an eager one gives -------------------------


def test_fake_data_equals_an_eagerly_built_seeded_faker() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    schema = {"type": "object", "required": ["name", "url", "email", "word"], "properties": {
        "name": {"type": "string", "x-faker": "catch_phrase"}, "url": {"type": "string", "format": "uri"},
        "email": {"type": "string", "format": "email"}, "word": {"type": "string"}}}  # fmt: skip
    lazy = FakeData(random.Random(1), 7)
    lazy.reseed(11)  # before the Faker exists: only the seed is kept
    got = [lazy.value(schema, "item", now) for _ in range(3)]
    eager = Faker()
    eager.seed_instance(11)
    rng = random.Random(1)
    assert rng.random() is not None  # the schema above draws nothing from rng
    expected = [
        {"name": eager.catch_phrase(), "url": eager.url(), "email": eager.email(), "word": eager.word()}
        for _ in range(3)
    ]
    assert got == expected
    lazy.reseed(11)  # after: reseeds the real one
    assert lazy.value(schema, "item", now) == expected[0]


#: Applications whose required `name` (x-faker: catch_phrase) nobody gives: generated from the seed.
NAMELESS = {"fixtures": {"appsecplus": {"applications": [{"id": "app-00001"}, {"id": "app-00002"}]}}}
GENERATED_NAMES = """
import json, sys
from specmock import MockApp
app = MockApp(seed=int(sys.argv[1]))
assert "faker" not in sys.modules, "Faker was imported before a value was generated"
app.load_scenario(json.loads(sys.argv[2]))
entries = app.state()["collections"]["appsecplus.applications"]
print(json.dumps([e["item"]["name"] for e in entries if e["key"] != "app-12345"]))
"""


def generated_names(seed: int, *, early: bool) -> list[str]:
    """The names a scenario's nameless applications get, with the Faker built at start or on first use."""
    from specmock import MockApp

    app = MockApp(seed=seed)
    if early:
        app.engine.fake.faker.catch_phrase  # noqa: B018  # a provider looked up, not called: built now, nothing drawn
        assert app.engine.fake.faker._faker is not None  # type: ignore[attr-defined]
    app.load_scenario(NAMELESS)
    entries = app.state()["collections"]["appsecplus.applications"]
    return [e["item"]["name"] for e in entries if e["key"] != "app-12345"]


def test_generated_values_follow_the_seed_whenever_faker_is_loaded() -> None:
    """Same seed, same values: with the Faker built at start, on first use, or in a process that
    never imported Faker before the first value was needed."""
    late = generated_names(5, early=False)
    assert late == generated_names(5, early=True)
    out = subprocess.run(
        [sys.executable, "-c", GENERATED_NAMES, "5", json.dumps(NAMELESS)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout) == late
    assert len(set(late)) == 2 and all(isinstance(n, str) and n for n in late)
    assert generated_names(6, early=False) != late, "another seed, other values"


# -- what building the app imports (in a fresh interpreter) ----------------------------------

#: Built as `specmock serve` builds it (the contract routes in front), then asked the first GET.
PROBE = """
import asyncio, json, sys
from specmock._contract.cli import serve_front
from specmock._server.cli import build_app, parse_args
args = parse_args(sys.argv[1:])
args.argv = sys.argv[1:]
app = build_app(args)
served, _ = serve_front(app, app)
from specmock._server.workers import served_protocol
served_protocol(args)  # the HTTP protocol uvicorn serves with (h11 only on a hand-over)
sent = []
async def first_request():
    scope = {"type": "http", "method": "GET", "path": "/connectors", "raw_path": b"/connectors",
             "query_string": b"", "headers": [(b"host", b"x"), (b"authorization", b"Bearer x")],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 1), "root_path": ""}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await served(scope, receive, send)
asyncio.run(first_request())
heavy = ("faker", "jsonschema", "referencing", "yaml", "httpx", "redis", "h11", "specmock._spec.infer")
print(json.dumps([sent[0]["status"], sorted(m for m in heavy if m in sys.modules)]))
"""


def imported_by_build(argv: list[str], home: Path, status: int = 200) -> list[str]:
    """What a start with `argv` and its first GET /connectors (answered `status`) imported."""
    # As a user runs it: without the suite's cross-check, which runs jsonschema on every answer.
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "SPECMOCK_CROSS_CHECK": "0"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "serve", "--port", "0", *argv],
        capture_output=True, text=True, env=env, timeout=120, check=True, cwd=home,
    )  # fmt: skip
    answered, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert answered == status
    return list(loaded)


def test_serving_the_first_request_imports_no_faker_jsonschema_httpx_or_redis_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """The bundled fixtures name every field they need (no value is generated, so no Faker);
    jsonschema-rs answers every check a valid document and request need, the choice of each
    error body included (sdelements' 400 refuses the family's template: jsonschema only words
    a refusal); httpx and Redis belong to other commands and options; h11 serves only a
    connection httptools hands over (an unknown method); inference, documents without
    their own x-specmock."""
    for _ in range(2):  # the second start finds nothing the first one left
        assert imported_by_build(["--scenario", "default"], tmp_path) == ["yaml"]
        assert list(tmp_path.rglob("*")) == [], "a start writes no file (no cache, no tape)"


def test_no_bundled_start_generates_a_value() -> None:
    """Every bundled spec's fixtures and every bundled scenario name each required field, so no
    start needs Faker (importing and building it was a fifth of `specmock serve`'s start-up)."""
    code = (
        "import sys; from specmock import MockApp; from specmock._scenario.registry import bundled_scenario_files\n"
        "app = MockApp()\n"
        "for name in sorted(bundled_scenario_files()):\n"
        "    app.load_scenario(name)\n"
        "print('faker' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


def test_faker_is_not_imported_when_no_value_needs_it(tmp_path: Path) -> None:
    spec = str(Path(__file__).resolve().parent.parent / "specs" / "sdelements.yaml")
    assert imported_by_build(["--spec", spec], tmp_path, status=404) == ["yaml"]


def test_the_cache_flag_is_gone() -> None:
    from specmock._server.cli import parse_args

    with pytest.raises(SystemExit):
        parse_args(["serve", "--no-cache"])


def test_the_collector_does_not_run_while_serve_builds_the_mock_and_runs_after() -> None:
    """Start-up's objects all live on: the cycle collector's passes over them while building
    were a tenth of start-up's CPU. It is paused for the build, whose objects are then frozen,
    so the first pass after it does not walk them all either (memory.frozen_start_up)."""
    import gc

    from specmock._server.cli import build_app, parse_args

    passes: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            passes.append(info["generation"])

    args = parse_args(["serve", "--port", "0", "--scenario", "default"])
    args.argv = []
    assert gc.isenabled()
    before = gc.get_freeze_count()
    gc.callbacks.append(count)
    try:
        app = build_app(args)
        frozen = gc.get_freeze_count() - before
        app.close()
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()  # the test process goes on with Python's defaults
    assert passes == [], "no pass while building, nor on enabling the collector again"
    assert gc.isenabled()
    assert frozen > 10_000, "what the build made is frozen"
