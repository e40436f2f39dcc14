"""`PUT /__specmock/scenario {"use": ...}` reads bundled scenarios and files in --scenario-dir only.

Nothing else on disk is opened: not by `..`, an absolute path or a symlink out;
FIFOs and devices are refused without blocking; large files are refused; a
refusal names the file, never its content.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from specmock._server.admin_guard import AdminSettings
from specmock._server.app import MockApp
from specmock._testing.transport import SyncASGITransport

SECRET = "root:x:0:0:SECRET-LINE:/root:/bin/bash"


def api_for(*dirs: Path) -> httpx.Client:
    app = MockApp(admin=AdminSettings(scenario_dirs=tuple(dirs)))
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://mock")


def use(api: httpx.Client, name: object) -> httpx.Response:
    return api.put("/__specmock/scenario", json={"use": name})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    allowed = tmp_path / "scenarios"
    allowed.mkdir()
    (allowed / "mine.yaml").write_text("name: mine\ndescription: from the folder\n")
    (tmp_path / "secret.txt").write_text(SECRET + "\n")
    return allowed


def test_bundled_names_and_files_in_a_scenario_dir_load(folder: Path) -> None:
    api = api_for(folder)
    assert use(api, "rate-limited").json()["active"] == "rate-limited"
    assert use(api, "mine.yaml").json()["active"] == "mine"
    assert use(api, ["default", "mine.yaml"]).status_code == 200


@pytest.mark.parametrize("name", ["../secret.txt", "../../../../etc/passwd", "/etc/passwd", "/dev/zero", "."])
def test_paths_outside_the_scenario_dirs_are_refused_unread(folder: Path, name: str) -> None:
    refused = use(api_for(folder), name)
    assert refused.status_code == 400
    assert "--scenario-dir" in refused.json()["error"]
    assert "SECRET" not in refused.text and "root:" not in refused.text


def test_without_a_scenario_dir_only_bundled_names_are_accepted(folder: Path) -> None:
    api = api_for()
    for name in (str(folder / "mine.yaml"), "mine.yaml", "/etc/passwd"):
        refused = use(api, name)
        assert refused.status_code == 400
        assert "not a bundled scenario" in refused.json()["error"]


def test_a_symlink_out_of_the_folder_is_refused(folder: Path) -> None:
    (folder / "link.yaml").symlink_to(folder.parent / "secret.txt")
    (folder / "zero.yaml").symlink_to("/dev/zero")
    api = api_for(folder)
    for name in ("link.yaml", "zero.yaml"):
        refused = use(api, name)
        assert refused.status_code == 400
        assert "SECRET" not in refused.text


def test_a_fifo_or_a_large_file_is_refused_without_blocking(folder: Path) -> None:
    os.mkfifo(folder / "pipe.yaml")  # opening it for reading would block until a writer came
    (folder / "big.yaml").write_bytes(b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    api = api_for(folder)
    assert "not a regular file" in use(api, "pipe.yaml").json()["error"]
    assert "larger than" in use(api, "big.yaml").json()["error"]


def test_a_file_that_is_not_a_scenario_is_refused_without_echoing_it(folder: Path) -> None:
    (folder / "passwd.yaml").write_text(SECRET + "\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    (folder / "values.yaml").write_text(f"name: x\nrules: '{SECRET}'\n")
    api = api_for(folder)
    for name in ("passwd.yaml", "values.yaml"):
        refused = use(api, name)
        assert refused.status_code == 400
        assert f"{name}>:" in refused.json()["error"]  # the place, by file and line
        assert "SECRET" not in refused.text and "daemon" not in refused.text
    assert api.get("/__specmock/scenario").json() == {"active": None}


def test_the_scenario_dir_flag_reaches_the_admin_api(folder: Path) -> None:
    from specmock._server.cli import build_app, parse_args

    app = build_app(parse_args(["serve", "--scenario-dir", str(folder)]))
    assert app.admin.scenario_dirs == (folder,)
