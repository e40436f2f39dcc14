"""Near misses get the nearest known name, and the useful line comes first.

Scenario names, operationIds, keys, families and collections: a name almost right is
answered with "did you mean ...?" drawn from what is loaded; a name far from all of
them gets no guess.
"""

from __future__ import annotations

import pytest

from specmock import LoadError, MockApp
from specmock._suggest import closest, did_you_mean


@pytest.fixture(scope="module")
def app() -> MockApp:
    return MockApp()


def problems(app: MockApp, text: str) -> list[str]:
    with pytest.raises(LoadError) as caught:
        app.check_scenario(text)
    return [f"{p.line}: {p.reason}" for p in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("name: x\nrulez: []\n", 2, "unknown key 'rulez' (did you mean 'rules'?)"),
        (
            "rules:\n  - match: {operationId: TriggerScan}\n    respnd: {status: 500}\n",
            3,
            "unknown key 'respnd' (did you mean 'respond'?)",
        ),
        (
            "rules:\n  - match: {operationId: GetScan, methd: GET}\n    respond: {status: 500}\n",
            2,
            "unknown key 'methd' (did you mean 'method'?)",
        ),
        (
            "rules:\n  - match: {operationId: TriggerSacn}\n    respond: {status: 500}\n",
            2,
            "operationId 'TriggerSacn' (did you mean 'TriggerScan'?)",
        ),
        (
            "rules:\n  - match: {operationId: 'appsecplus:GetScna'}\n    respond: {status: 500}\n",
            2,
            "(did you mean 'appsecplus:GetScan'?)",
        ),
        ("fixtures:\n  appsecplus:\n    conectors: []\n", 3, "no collection 'conectors' (did you mean 'connectors'?)"),
        ("fixtures:\n  appsecplu:\n    connectors: []\n", 3, "family 'appsecplu' (did you mean 'appsecplus'?)"),
        (
            "auth:\n  appsecplus:\n    requires: {GetScn: [read]}\n",
            3,
            "no operation 'GetScn' (did you mean 'GetScan'?)",
        ),
    ],
)
def test_a_near_miss_is_reported_first_with_the_nearest_name(app: MockApp, text: str, line: int, says: str):
    found = problems(app, text)
    assert found[0].startswith(f"{line}: "), found
    assert says in found[0], found
    assert not any("is not valid under any of the given schemas" in p for p in found), found


def test_a_rule_with_neither_respond_nor_chaos_says_what_it_needs(app: MockApp):
    found = problems(app, "rules:\n  - match: {operationId: GetScan}\n")
    assert found == ["2: rules[0]: needs one of: respond, chaos"]


def test_a_misspelled_bundled_scenario_name_is_suggested(app: MockApp):
    with pytest.raises(LoadError, match=r"did you mean 'rate-limited'\?"):
        app.check_scenario("rate-limitd")
    with pytest.raises(KeyError, match=r"did you mean 'flaky-network'\?"):
        app.scenarios.bundled("flaky-netwrk")


@pytest.mark.parametrize(
    ("word", "known", "expected"),
    [
        ("rate-limitd", ["rate-limited", "default"], "rate-limited"),
        ("triggerscan", ["TriggerScan", "GetScan"], "TriggerScan"),  # case is not a miss
        ("zzz", ["rate-limited", "default"], None),  # nothing near: no guess
        ("", ["rules"], None),
    ],
)
def test_closest_offers_only_a_known_name_and_only_when_near(word: str, known: list[str], expected: str | None):
    assert closest(word, known) == expected


def test_an_exact_name_is_not_suggested_to_itself():
    assert did_you_mean("rules", ["rules", "rulez"]) == ""


def test_a_near_miss_collection_or_family_is_suggested_wherever_it_is_looked_up(app: MockApp):
    with pytest.raises(KeyError, match=r"no collection 'conectors' \(did you mean 'connectors'\?\)"):
        app.collection("appsecplus", "conectors")
    with pytest.raises(KeyError, match=r"no family 'versory' \(did you mean 'versori'\?\)"):
        app.catalog.family("versory")
