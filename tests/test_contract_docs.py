"""The README's drift commands, which tests/test_docs.py cannot run bare (they need a
provider), run here by the same docs runner against the provider docs/drift.md's
set-up starts (tests/docs_setups.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from docs_blocks import ShellRun, blocks
from docs_setups import widgets_provider
from test_docs import ROOT, _env


def test_the_readme_drift_commands_run_against_a_provider(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    named = [b for b in blocks(ROOT / "README.md") if b.not_run and "tests/test_contract_docs.py" in b.not_run]
    assert len(named) == 1, "the README's drift block names this test"
    setup = widgets_provider(request, tmp_path)
    ShellRun(tmp_path, _env(tmp_path, setup)).run(named[0].text)
    assert (tmp_path / "verify.xml").exists()
    assert (tmp_path / "drift.json").exists(), "the proxy writes its report when it stops"
