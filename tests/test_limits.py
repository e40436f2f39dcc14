"""Limits that keep one client from taking the server's CPU or memory.

Patterns applied to input are linear by construction (checked structurally, not
timed); bodies, lists, the journal and the store are bounded.
"""

from __future__ import annotations

import re

import pytest

from linear_patterns import ambiguous_repeats
from specmock import dispatch, formats, lifecycle, validation
from specmock.app import MockApp
from specmock.scenario_schema import SCENARIO_SCHEMA


def _schema_patterns(node: object) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            pattern = item.get("pattern")
            if isinstance(pattern, str):
                found.append(pattern)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def input_patterns() -> list[str]:
    """Every regular expression specmock applies to what a client or a scenario sends."""
    app = MockApp()
    modules = (dispatch, formats, lifecycle, validation)
    compiled = [v.pattern for m in modules for v in vars(m).values() if isinstance(v, re.Pattern)]
    routes = [compiled.regex.pattern for compiled in app.router._dynamic]
    specs = [p for family in app.families for p in _schema_patterns(family.document)]
    return [p if isinstance(p, str) else p.decode("latin-1") for p in compiled] + routes + specs + _schema_patterns(
        SCENARIO_SCHEMA
    )


def test_the_linearity_check_catches_the_classic_quadratic_patterns() -> None:
    assert ambiguous_repeats(r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$")  # the duration pattern before the fix
    assert ambiguous_repeats(r"^(a+)+$")
    assert ambiguous_repeats(r"^\d*\d*$")
    assert not ambiguous_repeats(r"^([^:,]+:(asc|desc))(,[^:,]+:(asc|desc))*$")


@pytest.mark.parametrize("pattern", sorted(set(input_patterns())))
def test_every_pattern_applied_to_input_is_linear(pattern: str) -> None:
    assert ambiguous_repeats(pattern) == []


def test_a_long_run_of_spaces_in_a_duration_is_refused_not_backtracked() -> None:
    hostile = "1" + " " * 40_000 + "x"
    with pytest.raises(ValueError, match="not a duration"):
        lifecycle.parse_duration(hostile)
    assert lifecycle.parse_duration(" 1.5 ms ") == pytest.approx(0.0015)
    assert lifecycle.parse_duration("2") == 2.0
    assert lifecycle.parse_duration("3m") == 180.0
