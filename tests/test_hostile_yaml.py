"""Spec and scenario YAML is loaded safely: Python tags and alias bombs (billion laughs) are refused
before anything is built or expanded.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from specmock import LoadError, MockApp, load_specs
from specmock._spec.bundled import bundled_dir

# -- YAML ---------------------------------------------------------------------------------

PYTHON_TAGS = {
    "scalar tag": "!!python/name:os.system ''",
    "mapping tag": "!!python/object:argparse.Namespace {{apiUrl: 'https://x.com'}}",
    "sequence tag": "!!python/object/apply:os.system ['touch {marker}']",
    "new-object tag": "!!python/object/new:os.system ['touch {marker}']",
    "local tag": "!custom {{apiUrl: 'https://x.com'}}",
}


def billion_laughs(top: str) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghij"
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return top + "".join(f"x-{line}\n" if top.startswith("openapi") else f"  {line}\n" for line in lines)


@pytest.mark.parametrize("tag", list(PYTHON_TAGS))
def test_a_spec_with_a_python_tag_is_refused(tmp_path: Path, tag: str):
    marker = tmp_path / "pwned"
    spec = (bundled_dir("specs") / "appsecplus.yaml").read_text(encoding="utf-8")
    value = PYTHON_TAGS[tag].format(marker=marker)
    evil = spec.replace("info:\n", f"info:\n  x-evil: {value}\n", 1)
    assert evil != spec
    path = tmp_path / "evil.yaml"
    path.write_text(evil, encoding="utf-8")
    with pytest.raises(LoadError) as refused:
        load_specs([path])
    assert refused.value.path == str(path) and refused.value.line is not None
    assert "tag" in refused.value.reason, refused.value  # refused for its tag, not for what it built
    assert not marker.exists()


@pytest.mark.parametrize("tag", list(PYTHON_TAGS))
def test_a_scenario_with_a_python_tag_is_refused(tmp_path: Path, tag: str):
    marker = tmp_path / "pwned"
    value = PYTHON_TAGS[tag].format(marker=marker)
    path = tmp_path / "evil.yaml"
    path.write_text(
        "name: evil\nfixtures:\n  appsecplus:\n    connectors:\n"
        f"      - {{type: github, name: Evil, config: {value}}}\n",
        encoding="utf-8",
    )
    app = MockApp()
    with pytest.raises(LoadError) as refused:
        app.load_scenario(path)
    assert refused.value.line is not None
    assert "tag" in refused.value.reason, refused.value  # refused for its tag, not for what it built
    assert app.scenario is None
    assert not marker.exists()


def test_a_spec_yaml_bomb_is_refused_before_it_expands(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs("openapi: 3.1.0\n"), encoding="utf-8")
    with pytest.raises(LoadError, match="alias"):  # the alias guard, not a MemoryError after expanding
        load_specs([path])


def test_a_scenario_yaml_bomb_is_refused_before_it_expands(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs("name: bomb\ndescription: lol\nx-lol:\n"), encoding="utf-8")
    app = MockApp()
    with pytest.raises(LoadError, match="alias"):
        app.load_scenario(path)
    assert app.scenario is None
