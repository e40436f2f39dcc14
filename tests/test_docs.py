"""The README and the docs site keep their promises: every block a user would paste runs.

Shell blocks run as a user would run them (tests/docs_blocks.py says how), Python
blocks holding tests run under pytest with the plugin, other Python blocks run as
scripts, and YAML blocks that are scenarios pass `specmock validate`. Every page runs
here, with the same code: what a page needs around it (files, a Redis, a provider, the
order of a story) is declared in tests/docs_setups.py. A block that cannot run here
names, in a comment before it, what runs it instead. The
`x-specmock` reference is generated from the extension's schema and must be current.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from docs_blocks import Block, ShellRun, blocks, commands
from docs_setups import SET_UPS, PageSetup, is_story, set_up

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BIN = Path(sys.executable).parent
SCENARIO_KEYS = {"name", "seed", "description", "fixtures", "auth", "rules", "lifecycles", "extends"}

sys.path.insert(0, str(ROOT / "scripts"))
import extension_reference  # noqa: E402


def _all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def _runnable(lang: str) -> list[Block]:
    return [block for block in _all_blocks() if block.lang in (lang,) and block.not_run is None]


def _env(tmp: Path, setup: PageSetup | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECMOCK_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(tmp)
    return {**env, **(setup.env if setup else {})}


def _shell(block_page: Path, request: pytest.FixtureRequest, folder: Path) -> tuple[ShellRun, PageSetup]:
    setup = set_up(block_page, request, folder)
    shell = ShellRun(folder, _env(folder, setup), setup.rewrites, setup.refuse_error_documents)
    return shell, setup


@pytest.mark.parametrize("block", [b for b in _runnable("sh") if not is_story(b.page)], ids=lambda b: b.name)
def test_shell_block_runs(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    shell, _ = _shell(block.page, request, tmp_path)
    shell.run(block.text)


@pytest.mark.parametrize("page", [p for p in PAGES if is_story(p)], ids=lambda p: p.name)
def test_a_story_page_runs_in_its_order(page: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A page whose commands feed each other runs as its set-up tells, each command once."""
    shell, setup = _shell(page, request, tmp_path)
    left = [command for block in blocks(page) if block.lang == "sh" and block.not_run is None
            for command in commands(block.text)]  # fmt: skip
    try:
        for step in setup.story or ():
            if callable(step):
                step(shell)
                continue
            matching = [command for command in left if command.text.startswith(step)]
            assert len(matching) == 1, f"{page.name}: {len(matching)} commands start with {step!r}"
            left.remove(matching[0])
            shell.one(matching[0])
    finally:
        shell.stop()
    assert not left, f"{page.name}: commands its story does not run: {[c.text for c in left]}"


@pytest.mark.parametrize("block", _runnable("python"), ids=lambda b: b.name)
def test_python_block_runs(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    setup = set_up(block.page, request, tmp_path)
    text = block.text
    for old, new in setup.rewrites.items():
        text = text.replace(old, new)
    if "def test_" in text:
        (tmp_path / "test_page.py").write_text(text)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_page.py"]
    else:
        (tmp_path / "page.py").write_text(text + setup.python_epilogue)
        argv = [sys.executable, "page.py"]
    done = subprocess.run(argv, cwd=tmp_path, env=_env(tmp_path, setup), capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout.decode()[-3000:] + done.stderr.decode()[-3000:]


@pytest.mark.parametrize(("page", "least"), sorted((name, page.at_least) for name, page in SET_UPS.items()))
def test_a_page_with_a_set_up_still_has_its_blocks(page: str, least: dict[str, int]) -> None:
    found = blocks(ROOT / "docs" / page)
    for lang, count in least.items():
        runnable = [b for b in found if b.lang == lang and b.not_run is None]
        assert len(runnable) >= count, f"docs/{page}: {len(runnable)} {lang} blocks, its set-up expects {count}"


def _scenarios() -> list[Block]:
    found = []
    for block in _runnable("yaml"):
        data = yaml.safe_load(block.text)
        if isinstance(data, dict) and "name" in data and set(data) <= SCENARIO_KEYS:
            found.append(block)
    return found


@pytest.mark.parametrize("block", _scenarios(), ids=lambda b: b.name)
def test_scenario_block_validates(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    set_up(block.page, request, tmp_path)
    path = tmp_path / "scenario.yaml"
    path.write_text(block.text)
    done = subprocess.run(
        [str(BIN / "specmock"), "validate", str(path)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


@pytest.mark.parametrize("block", [b for b in _all_blocks() if b.not_run is not None], ids=lambda b: b.name)
def test_a_block_not_run_here_names_what_runs_it(block: Block) -> None:
    """An honest excuse: it names a test or CI script that exists."""
    named = [word.strip("`()").rstrip(".,;:") for word in (block.not_run or "").split()]
    paths = [word for word in named if word.startswith(("tests/", ".ci/")) and (ROOT / word).exists()]
    assert paths, f"{block.name}: the not-run note names no existing test or CI script: {block.not_run!r}"


def test_the_readme_set_up_commands_are_what_ci_runs() -> None:
    """.ci/run and .ci/cleanroom run the README's own set-up lines, so they work on a fresh machine."""
    done = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "readme_command.py"), "test"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().endswith("python -m pytest -n 2")
    assert re.search(r'readme_command\.py"? test', (ROOT / ".ci" / "run").read_text())
    assert re.search(r'readme_command\.py"? serve', (ROOT / ".ci" / "cleanroom").read_text())


def test_the_readme_is_a_short_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; the manual belongs in docs/"


def test_every_page_is_in_the_site_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    missing = [p.name for p in (ROOT / "docs").glob("*.md") if p.name not in nav]
    assert not missing, f"pages outside the site's nav: {missing}"


def test_the_extension_reference_is_current() -> None:
    """docs/extension.md is what scripts/extension_reference.py prints from the schema."""
    page = (ROOT / "docs" / "extension.md").read_text(encoding="utf-8")
    assert page == extension_reference.render(), "run: python scripts/extension_reference.py > docs/extension.md"


def test_every_extension_key_is_described() -> None:
    keys = {
        path
        for prefix, _, schema in extension_reference.ROOTS
        for path, _, _ in extension_reference.keys(prefix, schema)
    }
    described = set(extension_reference.DESCRIPTIONS)
    assert keys - described == set(), f"keys without a description: {sorted(keys - described)}"
    assert described - keys == set(), f"descriptions of keys the schema lacks: {sorted(described - keys)}"


def test_the_documented_handle_is_the_handle() -> None:
    """Every name docs/pytest.md lists on the handle exists (the README once named a `seed()` that did not)."""
    from specmock import MockApp
    from specmock._testing.handle import Handle

    handle = Handle(MockApp())

    text = (ROOT / "docs" / "pytest.md").read_text(encoding="utf-8")
    paragraph = text.split("The handle:", 1)[1].split("A request to a path", 1)[0]
    names = {m.group(1) for m in re.finditer(r"`([a-z_]+)(?:\(|`)", paragraph)}
    names -= {"specmock_server", "set", "freeze", "advance"}  # the fixture's name; the clock's methods
    missing = sorted(name for name in names if not hasattr(handle, name))
    assert not missing, f"docs/pytest.md names handle members that do not exist: {missing}"
