"""Start-up: the parse cache (hit, miss, stale, corrupt, off) and what building the app imports.

Speed is shown by benchmarks/bench_startup.py, never asserted here; these tests pin
the behaviour that makes it fast, so a regression (an eager import, a cache that
serves stale values or fails on a bad file) fails a test.
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

from specmock.errors import LoadError
from specmock.runtime import fakedata
from specmock.runtime.fakedata import FakeData, LazyFaker, save_tapes
from specmock.spec import parsecache
from specmock.spec.bundled import bundled_specs
from specmock.spec.yamlload import load_yaml, parse_yaml

SPEC_TEXT = "a: 1\nb:\n  - x\n  - {c: true}\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SPECMOCK_CACHE_DIR", str(folder))
    monkeypatch.delenv("SPECMOCK_NO_CACHE", raising=False)
    monkeypatch.setattr(parsecache, "_disabled", False)
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*" + parsecache.SUFFIX)) if folder.exists() else []


def write(tmp_path: Path, text: str, name: str = "doc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_miss_writes_an_entry_and_a_hit_gives_the_same_document(cache: Path, tmp_path: Path) -> None:
    path = write(tmp_path, SPEC_TEXT)
    first = load_yaml(path)
    assert len(entries(cache)) == 1
    second = load_yaml(path)
    assert (second.path, second.data, second.lines) == (first.path, first.data, first.lines)
    assert second.line_of(("b", 1, "c")) == 4
    assert second.data == parse_yaml(SPEC_TEXT, path).data


def test_the_bundled_specs_read_back_from_the_cache_equal_a_fresh_parse(cache: Path) -> None:
    for spec in bundled_specs():
        fresh = parse_yaml(spec.read_text(encoding="utf-8"), spec)
        load_yaml(spec)  # fills the cache
        cached = load_yaml(spec)
        assert cached.data == fresh.data and cached.lines == fresh.lines
        assert json.dumps(cached.data, sort_keys=True) == json.dumps(fresh.data, sort_keys=True)


def test_a_changed_file_is_parsed_again_not_served_stale(cache: Path, tmp_path: Path) -> None:
    path = write(tmp_path, SPEC_TEXT)
    load_yaml(path)
    path.write_text(SPEC_TEXT.replace("a: 1", "a: 2"), encoding="utf-8")
    assert load_yaml(path).data["a"] == 2
    assert len(entries(cache)) == 2


def test_the_key_covers_specmock_and_python_versions(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = parsecache.key(SPEC_TEXT)
    parsecache._environment.cache_clear()
    monkeypatch.setattr(sys.modules["specmock"], "__version__", "999.0")
    try:
        assert parsecache.key(SPEC_TEXT) != before
    finally:
        parsecache._environment.cache_clear()


@pytest.mark.parametrize(
    "blob",
    [b"", b"garbage", b"\xff" * 100, None],  # None: a valid entry cut in half
    ids=["empty", "garbage", "bytes", "truncated"],
)
def test_a_corrupt_entry_is_ignored_and_rewritten(cache: Path, tmp_path: Path, blob: bytes | None) -> None:
    path = write(tmp_path, SPEC_TEXT)
    expected = load_yaml(path)
    [entry] = entries(cache)
    whole = entry.read_bytes()
    entry.write_bytes(whole[: len(whole) // 2] if blob is None else blob)
    again = load_yaml(path)
    assert (again.data, again.lines) == (expected.data, expected.lines)
    assert entry.read_bytes() == whole  # rewritten whole


def test_an_entry_naming_another_key_is_not_used(cache: Path, tmp_path: Path) -> None:
    other = write(tmp_path, "a: 999\n", "other.yaml")
    path = write(tmp_path, SPEC_TEXT)
    load_yaml(other)
    [other_entry] = entries(cache)
    (cache / (parsecache.key(SPEC_TEXT) + parsecache.SUFFIX)).write_bytes(other_entry.read_bytes())
    assert load_yaml(path).data["a"] == 1


def test_broken_documents_are_not_cached_and_fail_the_same_way(cache: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "a: [1, 2\n")
    with pytest.raises(LoadError) as first:
        load_yaml(path)
    with pytest.raises(LoadError) as second:
        load_yaml(path)
    assert str(first.value) == str(second.value)
    assert entries(cache) == []


def test_values_marshal_cannot_keep_are_parsed_each_time(cache: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "when: 2024-01-02\n")
    assert str(load_yaml(path).data["when"]) == "2024-01-02"
    assert entries(cache) == []
    assert str(load_yaml(path).data["when"]) == "2024-01-02"


def test_text_from_a_request_is_never_written(cache: Path) -> None:
    parse_yaml(SPEC_TEXT, "<admin>")
    assert entries(cache) == []


@pytest.mark.parametrize("how", ["env-off", "no-cache-env", "disable"])
def test_the_cache_can_be_turned_off(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "env-off":
        monkeypatch.setenv("SPECMOCK_CACHE_DIR", "off")
    elif how == "no-cache-env":
        monkeypatch.setenv("SPECMOCK_NO_CACHE", "1")
    else:
        parsecache.disable()
    assert load_yaml(write(tmp_path, SPEC_TEXT)).data["a"] == 1
    assert entries(cache) == [] and not (tmp_path / "off").exists()


def test_an_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = write(tmp_path, "not a folder", "blocker")
    monkeypatch.setenv("SPECMOCK_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(parsecache, "_disabled", False)
    assert load_yaml(write(tmp_path, SPEC_TEXT)).data["a"] == 1


def test_the_default_place_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SPECMOCK_CACHE_DIR", raising=False)
    monkeypatch.delenv("SPECMOCK_NO_CACHE", raising=False)
    monkeypatch.setattr(parsecache, "_disabled", False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert parsecache.cache_dir() == tmp_path / "specmock"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert parsecache.cache_dir() == Path.home() / ".cache" / "specmock"


def test_old_entries_are_pruned(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsecache, "MAX_ENTRIES", 3)
    for i in range(6):
        load_yaml(write(tmp_path, f"a: {i}\n"))
    assert len(entries(cache)) == 3


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


# -- the Faker tape: start-up's generated values without importing Faker ----------------------


@pytest.fixture
def tape(cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(fakedata, "_tape", None)
    monkeypatch.setattr(fakedata, "_live", fakedata.weakref.WeakSet())
    return cache


CALLS = ["catch_phrase", "word", "email", "url", "uuid4", "sentence"]


def eager_values(seed: int, calls: list[str]) -> list[str]:
    faker = Faker()
    faker.seed_instance(seed)
    return [getattr(faker, name)() for name in calls]


def test_a_recorded_tape_answers_with_the_values_of_an_eager_faker(tape: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = LazyFaker(3)
    assert [getattr(recorder, name)() for name in CALLS] == eager_values(3, CALLS)
    save_tapes()
    assert len(list(tape.glob("faker-*.tape"))) == 1
    monkeypatch.setattr(fakedata, "_tape", None)  # a new process
    player = LazyFaker(3)
    assert [getattr(player, name)() for name in CALLS] == eager_values(3, CALLS)
    assert player._faker is None, "answered from the tape, no Faker built"
    # Beyond the tape: the Faker is built, replays the calls, and goes on as an eager one.
    more = [*CALLS, "word", "company"]
    assert [player.word(), player.company()] == eager_values(3, more)[-2:]
    assert player._faker is not None


def test_a_miss_in_the_middle_and_a_reseed_keep_the_values(tape: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = LazyFaker(9)
    recorder.word()
    recorder.word()
    save_tapes()
    monkeypatch.setattr(fakedata, "_tape", None)
    player = LazyFaker(9)
    got = [player.word(), player.word(), player.email(), player.word()]
    assert got == eager_values(9, ["word", "word", "email", "word"])
    player.seed_instance(9)
    assert player.word() == eager_values(9, ["word"])[0]


def test_a_use_the_tape_cannot_key_stops_recording(tape: Path) -> None:
    faker = LazyFaker(4)
    faker.word()
    faker.pystr()  # not a taped provider: what follows depends on it
    faker.word()
    assert list(faker.stop_recording()) == [(4, ("word",))]


def test_a_corrupt_tape_is_ignored(tape: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = LazyFaker(5)  # held: the tape collects from live Fakers
    recorder.word()
    save_tapes()
    [path] = tape.glob("faker-*.tape")
    for blob in (b"junk", path.read_bytes()[:10], fakedata.marshal.dumps((fakedata.TAPE_FORMAT, {(5, ("word",)): 1}))):
        path.write_bytes(blob)
        monkeypatch.setattr(fakedata, "_tape", None)
        assert LazyFaker(5).word() == eager_values(5, ["word"])[0]


def test_no_tape_when_the_cache_is_off(tape: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECMOCK_CACHE_DIR", "off")
    recorder = LazyFaker(6)
    recorder.word()
    save_tapes()
    assert not tape.exists() or not list(tape.glob("faker-*.tape"))


# -- what building the app imports (in a fresh interpreter) ----------------------------------

PROBE = """
import json, sys
from specmock.server.cli import build_app, parse_args
args = parse_args(sys.argv[1:])
args.argv = sys.argv[1:]
app = build_app(args)
print(json.dumps(sorted(m for m in ("faker", "yaml", "httpx", "redis") if m in sys.modules)))
"""


def imported_by_build(argv: list[str], cache_dir: Path) -> list[str]:
    env = {**os.environ, "SPECMOCK_CACHE_DIR": str(cache_dir)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "serve", "--port", "0", *argv],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_building_the_app_imports_no_httpx_or_redis_and_no_yaml_or_faker_once_cached(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    # appsecplus's application fixture leaves `name` to x-faker: the first start needs Faker.
    assert imported_by_build(["--scenario", "default"], cache_dir) == ["faker", "yaml"]  # fills the caches
    assert imported_by_build(["--scenario", "default"], cache_dir) == []  # reads them back
    assert imported_by_build(["--scenario", "default", "--no-cache"], cache_dir) == ["faker", "yaml"]


def test_faker_is_not_imported_when_no_value_needs_it(tmp_path: Path) -> None:
    spec = str(Path(__file__).resolve().parent.parent / "specs" / "sdelements.yaml")
    assert imported_by_build(["--spec", spec], tmp_path / "cache") == ["yaml"]
