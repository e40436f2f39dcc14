"""The state file: an acknowledged write is on disk, and a disk that fails loses nothing acknowledged.

A full or read-only disk is a real one where the machine allows it (a small
tmpfs mounted by the test, as root); the same behaviour is also checked
in-process with the writer's fsync failing on purpose.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import specmock._runtime.state.persister
from conftest import BEARER, run_cli, start_server, stop_server
from specmock import MockApp
from specmock._encoding import encode
from specmock._runtime.state.file import FileState
from specmock._runtime.state.persister import StatePersister
from specmock._testing.transport import SyncASGITransport

CONNECTOR = {"type": "github", "config": {"apiUrl": "https://api.github.com"}}


def create(api: httpx.Client, name: str, padding: int = 0) -> httpx.Response:
    """Register a connector; `padding` bytes of config make its line in the state file that much longer."""
    config = {**CONNECTOR["config"], **({"padding": "x" * padding} if padding else {})}
    return api.post("/connectors", json={**CONNECTOR, "config": config, "name": name}, headers=BEARER)


def names(api: httpx.Client) -> set[str]:
    return {c["name"] for c in api.get("/connectors", headers=BEARER).json()}


@contextlib.contextmanager
def persisted_app(path: Path) -> Iterator[tuple[MockApp, StatePersister, httpx.Client]]:
    """An in-process mock whose state file writer runs, as under `specmock serve --state-file`."""
    app = MockApp(state=path)
    assert isinstance(app.backend, FileState) and app.backend.persister is not None
    try:
        with httpx.Client(transport=SyncASGITransport(app), base_url="http://mock") as api:
            yield app, app.backend.persister, api
    finally:
        app.close()


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


# -- in-process, with the disk failing on purpose --------------------------------------------------------------------


def test_while_the_disk_fails_writes_are_503_reads_work_and_recovery_is_automatic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    real_fsync = os.fsync
    failing = {"on": False}

    def fsync(fd: int) -> None:
        if failing["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(specmock._runtime.state.persister.os, "fsync", fsync)
    with persisted_app(path) as (_, persister, api):
        assert create(api, "before").status_code == 201
        failing["on"] = True
        refused = create(api, "while full")
        assert refused.status_code == 503, "the write could not be saved: it is not acknowledged"
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["error"]["code"] == "ServiceUnavailableException"
        again = create(api, "still full")
        assert again.status_code == 503
        assert names(api) == {"before"}, "reads work; a 503 means the change was not applied"
        health = api.get("/__specmock/health")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["state"]["error"] == "No space left on device"

        failing["on"] = False
        wait_for(lambda: persister.error is None)
        assert api.get("/__specmock/health").json()["status"] == "ok"
        assert create(api, "after").status_code == 201
    restored = MockApp()
    StatePersister(restored.store, path, seed=lambda: 0).load()
    assert {e["item"]["name"] for e in restored.state()["collections"]["appsecplus.connectors"]} == {
        "before",
        "after",
    }, "the change answered 503 while the disk was full was never saved"


def test_each_acknowledged_write_is_a_line_on_disk_before_its_answer(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with persisted_app(path) as (_, _, api):
        for i in range(5):
            assert create(api, f"c{i}").status_code == 201
            head, *batches = (json.loads(line) for line in path.read_bytes().splitlines())
            saved = {e["item"]["name"] for e in head["store"]["collections"].get("appsecplus.connectors", [])}
            saved |= {p[3]["name"] for batch in batches for p in batch["put"]}
            assert f"c{i}" in saved, "written and fsynced before the 201 was sent"
    assert len(path.read_bytes().splitlines()) == 1, "on stop the log is compacted into one snapshot"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "write-only secrets are in it: owner only"


def test_a_batch_line_is_the_json_of_its_changes_with_each_item_as_stored(tmp_path: Path) -> None:
    """Batch lines splice each item's stored bytes in: the line is what encoding the batch writes."""
    path = tmp_path / "state.json"
    with persisted_app(path) as (app, persister, api):
        assert create(api, "first").status_code == 201  # may go out as a snapshot
        wait_for(lambda: persister.up_to_date)
        assert create(api, "spliced").status_code == 201
        assert api.delete("/connectors/conn-001", headers=BEARER).status_code == 204
        wait_for(lambda: persister.up_to_date)
        batches = path.read_bytes().splitlines()[1:]
        assert batches and all(line == encode(json.loads(line)) for line in batches)
        puts = [put for line in batches for put in json.loads(line)["put"] if put[3].get("name") == "spliced"]
        with app.store.lock:
            assert [put[3] for put in puts] == [app.store.get("appsecplus.connectors", (), puts[0][2])]
        assert ["appsecplus.connectors", [], "conn-001"] in [d for line in batches for d in json.loads(line)["del"]]


def test_a_state_that_utf8_cannot_hold_is_still_written(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with persisted_app(path) as (app, persister, api):
        exported = api.get("/__specmock/state").json()
        item = {"id": "conn-009", "type": "github", "name": "lone \ud800", "status": "active", "config": {"a": 1}}
        exported["store"]["collections"]["appsecplus.connectors"] = [{"scope": [], "key": "conn-009", "item": item}]
        body = json.dumps(exported, ensure_ascii=True)
        as_json = {"Content-Type": "application/json"}
        refused = api.put("/__specmock/state", content=body, headers=as_json)
        assert refused.status_code == 400, "an import that UTF-8 cannot hold is refused at the door"
        assert "surrogate" in refused.json()["error"]
        with app.store.lock:  # from Python, around every door: still stored, listed and saved
            app.store.put("appsecplus.connectors", (), "conn-009", item)
        assert api.get("/connectors", headers=BEARER).status_code == 200
        wait_for(lambda: persister.up_to_date)
        assert persister.error is None
    assert "lone \ud800" in path.read_text(encoding="utf-8", errors="surrogatepass") or "\\ud800" in path.read_text()


# -- reading the file back ---------------------------------------------------------------------------------------------


def test_a_torn_last_line_is_dropped_and_stale_temporaries_removed(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with persisted_app(path) as (_, persister, api):
        create(api, "kept")
        persister._compact_min = 10**9  # keep the log lines for this test
    # A crash in the middle of appending: a line without its newline.
    with path.open("ab") as handle:
        handle.write(b'{"put":[["appsecplus.connectors",[],"conn-9",{"id":"conn-9","na')
    stale = tmp_path / ".state.json.abc123.tmp"
    stale.write_text("half a snapshot")
    with persisted_app(path) as (_, _, api):
        assert names(api) == {"kept"}
    assert not stale.exists()


def test_a_corrupt_line_in_the_middle_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with persisted_app(path) as (_, persister, api):
        persister._compact_min = 10**9
        create(api, "a")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b'{"put": "nonsense"}\n' + b"".join(lines[1:]))
    run = run_cli("serve", "--port", "0", "--state-file", str(path))
    assert run.returncode == 2
    assert f"{path}:2: the state file is corrupt: malformed put" in run.stderr


@pytest.mark.parametrize(
    ("store", "reason"),
    [
        ({"collections": {"nowhere.things": []}}, "unknown collection 'nowhere.things'"),
        ({"collections": {"appsecplus.connectors": [{"scope": [], "key": "c1", "item": {}}]}}, "its id is None"),
        (
            {"collections": {"versori.connectors": [{"scope": [], "key": "k", "item": {"id": "k"}}]}},
            "should have 1 part(s)",
        ),
        ({"collections": {}, "counters": {"appsecplus.connectors": "seven"}}, "whole numbers"),
    ],
)
def test_well_formed_state_that_does_not_fit_the_specs_is_refused(tmp_path: Path, store: Any, reason: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"format": "specmock-state", "version": 2, "seed": 0, "store": store}))
    run = run_cli("serve", "--port", "0", "--state-file", str(path))
    assert run.returncode == 2
    assert reason in run.stderr and "Traceback" not in run.stderr
    with httpx.Client(transport=SyncASGITransport(MockApp()), base_url="http://mock") as api:
        imported = api.put("/__specmock/state", json={"format": "specmock-state", "version": 2, "store": store})
        assert imported.status_code == 400
        assert reason in imported.json()["error"]


def test_a_version_1_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    item = {"id": "conn-001", "type": "github", "name": "old", "status": "active", "config": {"a": 1}}
    entry = {"scope": [], "key": "conn-001", "item": item}
    store = {"collections": {"appsecplus.connectors": [entry]}, "counters": {"appsecplus.connectors": 1}}
    old = {"format": "specmock-state", "version": 1, "seed": 4, "store": store}
    path.write_text(json.dumps(old, separators=(",", ":")))  # version 1 files had no newline
    with persisted_app(path) as (app, _, api):
        assert names(api) == {"old"}
        assert app.seed == 4
        assert create(api, "new").json()["id"] == "conn-002"


# -- a real small disk -----------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, mounted for the test (needs root; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_then_read_only_disk_loses_nothing_acknowledged(small_disk: Path) -> None:
    state = small_disk / "state.json"
    served = start_server("--state-file", str(state))
    acknowledged: set[str] = set()
    try:
        with httpx.Client(base_url=served.url, timeout=20) as api:
            for i in range(10):
                assert create(api, f"first {i}").status_code == 201
                acknowledged.add(f"first {i}")
            filler = small_disk / "filler"
            with contextlib.suppress(OSError), filler.open("wb") as handle:
                while True:
                    handle.write(b"x" * 65536)
                    handle.flush()
            refused = [create(api, f"full {i}", padding=4000) for i in range(30)]
            acknowledged |= {f"full {i}" for i, reply in enumerate(refused) if reply.status_code == 201}
            assert any(r.status_code == 503 for r in refused), "a full disk refuses writes"
            assert all(r.status_code in (201, 503) for r in refused)
            assert all(r.headers.get("Retry-After") for r in refused if r.status_code == 503)
            assert api.get("/connectors", headers=BEARER).status_code == 200, "reads keep working"
            assert api.get("/__specmock/health").json()["state"]["error"] == "No space left on device"

            filler.unlink()  # space again: the writer recovers by itself
            wait_for(lambda: api.get("/__specmock/health").json()["status"] == "ok")
            assert create(api, "after space").status_code == 201
            acknowledged.add("after space")

            subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
            try:
                assert create(api, "read-only").status_code == 503
                assert api.get("/__specmock/health").json()["state"]["error"] == "Read-only file system"
            finally:
                subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
            wait_for(lambda: api.get("/__specmock/health").json()["status"] == "ok")
            assert create(api, "after read-only").status_code == 201
            acknowledged.add("after read-only")
    finally:
        served.process.send_signal(signal.SIGKILL)
        served.process.wait()
    restarted = start_server("--state-file", str(state))
    try:
        with httpx.Client(base_url=restarted.url) as api:
            assert acknowledged <= names(api), acknowledged - names(api)
    finally:
        stop_server(restarted)
