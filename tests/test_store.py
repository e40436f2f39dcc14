"""The store on its own: items by collection, scope and key; indexes; counters; change notices."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest

from specmock._encoding import encode
from specmock._runtime.listing import apply_filters, required_bytes
from specmock._runtime.state.protocol import Scope
from specmock._runtime.state.store import Store, UniqueIndex, get_field
from specmock._spec.model import Filter

ORG_A: Scope = ("org-a",)
ORG_B: Scope = ("org-b",)


def test_what_is_put_is_got_listed_and_removed():
    store = Store()
    store.put("v.connectors", ORG_A, "c1", {"id": "c1", "name": "one"})
    assert store.get("v.connectors", ORG_A, "c1") == {"id": "c1", "name": "one"}
    assert store.items("v.connectors", ORG_A) == [{"id": "c1", "name": "one"}]
    assert store.remove("v.connectors", ORG_A, "c1") == {"id": "c1", "name": "one"}
    assert store.get("v.connectors", ORG_A, "c1") is None
    assert store.remove("v.connectors", ORG_A, "c1") is None


def test_scopes_never_see_each_other():
    store = Store()
    store.put("v.connectors", ORG_A, "c1", {"id": "c1"})
    assert store.get("v.connectors", ORG_B, "c1") is None
    assert store.items("v.connectors", ORG_B) == []
    store.put("v.connectors", ORG_B, "c1", {"id": "c1", "other": True})
    assert store.remove_scope("v.connectors", ORG_A) == [{"id": "c1"}]
    assert store.items("v.connectors", ORG_B) == [{"id": "c1", "other": True}]


def test_every_change_moves_the_version_and_reads_do_not():
    store = Store()
    versions = [store.version]
    store.put("a.things", (), 1, {"id": 1})
    versions.append(store.version)
    store.get("a.things", (), 1)
    store.items("a.things", ())
    versions.append(store.version)
    store.remove("a.things", (), 1)
    versions.append(store.version)
    store.remove("a.things", (), 1)  # nothing to remove: no change
    versions.append(store.version)
    assert versions == [0, 1, 1, 2, 2]


def test_a_unique_index_knows_the_owner_of_a_value_and_forgets_it_on_change():
    store = Store()
    by_name = UniqueIndex("a.connectors", ("name",))
    store.add_index(by_name)
    store.put("a.connectors", (), "c1", {"id": "c1", "name": "GitHub"})
    assert store.owner(by_name, (), ("GitHub",)) == "c1"
    store.put("a.connectors", (), "c1", {"id": "c1", "name": "GitLab"})
    assert store.owner(by_name, (), ("GitHub",)) is None
    assert store.owner(by_name, (), ("GitLab",)) == "c1"
    store.remove("a.connectors", (), "c1")
    assert store.owner(by_name, (), ("GitLab",)) is None


def test_an_index_with_a_condition_only_holds_the_items_it_applies_to():
    store = Store()
    active_scan = UniqueIndex("a.scans", ("connectorId",), when=(("status", ("queued", "running")),))
    store.add_index(active_scan)
    store.put("a.scans", (), "s1", {"id": "s1", "connectorId": "c1", "status": "running"})
    assert store.owner(active_scan, (), ("c1",)) == "s1"
    store.put("a.scans", (), "s1", {"id": "s1", "connectorId": "c1", "status": "completed"})
    assert store.owner(active_scan, (), ("c1",)) is None


def test_an_index_added_late_covers_what_is_already_stored_and_nested_fields():
    store = Store()
    store.put("s.alm", (), 1, {"id": 1, "system": {"id": "github"}, "tags": ["a"]})
    by_system = UniqueIndex("s.alm", ("system.id", "tags"))
    store.add_index(by_system)
    assert store.owner(by_system, (), ("github", '["a"]')) == 1


def test_counters_hand_out_numbers_only_once_they_are_used():
    store = Store()
    assert store.peek_number("a.scans") == 1
    assert store.peek_number("a.scans") == 1  # peeking takes nothing: a refused create burns no id
    store.note_number("a.scans", 1)
    assert store.peek_number("a.scans") == 2
    store.note_number("a.scans", 7)  # a fixture used 7
    store.note_number("a.scans", 3)  # lower numbers never move it back
    assert store.counters() == {"a.scans": 7}


def test_export_and_load_round_trip_with_indexes_rebuilt():
    store = Store()
    by_name = UniqueIndex("v.connectors", ("name",))
    store.add_index(by_name)
    store.put("v.connectors", ORG_A, "c1", {"id": "c1", "name": "one"})
    store.note_number("v.connectors", 4)
    exported = store.export()
    other = Store()
    other.add_index(by_name)
    other.load(exported)
    assert other.export() == exported
    assert other.get("v.connectors", ORG_A, "c1") == {"id": "c1", "name": "one"}
    assert other.owner(by_name, ORG_A, ("one",)) == "c1"
    exported["collections"]["v.connectors"][0]["item"]["name"] = "changed"
    assert store.get("v.connectors", ORG_A, "c1") == {"id": "c1", "name": "one"}  # export is a copy


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def touched(self, collection: str, scope: Scope, key: Any) -> None:
        self.events.append((collection, scope, key))

    def replaced_all(self) -> None:
        self.events.append("all")


def test_watchers_hear_of_every_change_until_they_stop_watching():
    store, watcher = Store(), Recorder()
    store.watch(watcher)
    store.put("a.things", (), 1, {"id": 1})
    store.remove("a.things", (), 1)
    store.put("a.things", ("p",), 2, {"id": 2})
    store.remove_scope("a.things", ("p",))
    store.clear()
    store.unwatch(watcher)
    store.put("a.things", (), 3, {"id": 3})
    one, two = ("a.things", (), 1), ("a.things", ("p",), 2)
    assert watcher.events == [one, one, two, two, "all"]


def test_derived_views_are_dropped_when_their_item_changes():
    store = Store()
    store.put("a.things", (), 1, {"id": 1})
    store.set_derived("a.things", (), 1, "cached view")
    assert store.derived("a.things", (), 1) == "cached view"
    store.put("a.things", (), 1, {"id": 1, "changed": True})
    assert store.derived("a.things", (), 1) is None


def test_get_field_follows_dots_and_gives_none_for_missing_steps():
    item = {"system": {"id": "jira"}, "name": "x"}
    assert get_field(item, "system.id") == "jira"
    assert get_field(item, "name") == "x"
    assert get_field(item, "system.missing") is None
    assert get_field(item, "name.deeper") is None


def _connector_json(number: int) -> str:
    """A stored AppSec+ connector as a create leaves it, as the body parser hands it over."""
    config = {"apiUrl": "https://api.github.com", "token": "ghp_x", "organization": "example-org"}
    stamp = "2025-06-01T09:00:00Z"
    item = {"id": f"conn-{number:05d}", "type": "github", "name": f"connector {number}", "status": "active"}
    return json.dumps({**item, "config": config, "createdAt": stamp, "updatedAt": stamp})


def test_an_item_costs_the_store_little_more_than_its_json():
    """Items are kept as their JSON: ~2x its length with the key and a unique index, against
    ~7x as dicts of strings (100k connectors took ~100 MB so)."""
    store = Store()
    store.add_index(UniqueIndex("a.connectors", ("name",)))
    count = 2000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(count):
            item = json.loads(_connector_json(number))  # new objects, as a request's body brings
            store.put("a.connectors", (), item["id"], item)
        del item
        per_item = (tracemalloc.get_traced_memory()[0] - before) / count
    finally:
        tracemalloc.stop()
    assert per_item < 3 * len(encode(json.loads(_connector_json(0))))
    assert store.owner(UniqueIndex("a.connectors", ("name",)), (), ("connector 7",)) == "conn-00007"


def test_nothing_a_caller_holds_is_the_stored_item():
    """What `put` was given, and what every read returns, can be changed by its holder alone."""
    store = Store()
    given = {"id": "c1", "config": {"project": "P"}, "tags": ["a"]}
    store.put("a.things", (), "c1", given)
    given["config"]["project"] = "changed after the put"
    given["tags"].append("b")
    store.get("a.things", (), "c1")["config"]["project"] = "changed through get"  # type: ignore[index]
    store.items("a.things", ())[0]["tags"].append("c")
    store.export()["collections"]["a.things"][0]["item"]["config"]["project"] = "changed through export"
    assert store.get("a.things", (), "c1") == {"id": "c1", "config": {"project": "P"}, "tags": ["a"]}
    removed = store.remove("a.things", (), "c1")
    assert removed == {"id": "c1", "config": {"project": "P"}, "tags": ["a"]}
    loaded = {"collections": {"a.things": [{"scope": [], "key": "c2", "item": {"id": "c2", "n": [1]}}]}}
    store.load(loaded)
    loaded["collections"]["a.things"][0]["item"]["n"].append(2)
    assert store.get("a.things", (), "c2") == {"id": "c2", "n": [1]}


@pytest.mark.parametrize(
    "value",
    [
        2**64 + 1,  # beyond 64 bits: a fast decoder reads a float
        -(2**63) - 1,
        10**30,
        2**63 - 1,
        2**64 - 1,  # the largest integer orjson writes (and reads back as one): no scan needed
        -(2**63),
        "12345678901234567890 in a string",
        "\ud800 a lone surrogate",  # written as an escape
        "é ü 漢 😀",
        0.1,
        -0.0,
        1e300,
        True,
        None,
        [1, {"deep": [2.5, "x"]}],
    ],
)
def test_every_json_value_comes_back_from_the_store_as_it_was_put(value: Any):
    store = Store()
    store.put("a.things", (), 1, {"id": 1, "value": value})
    got = store.get("a.things", (), 1)
    assert got == {"id": 1, "value": value}
    assert type(got["value"]) is type(value)  # type: ignore[index]
    assert store.items("a.things", ()) == [{"id": 1, "value": value}]
    assert store.encoded("a.things", (), 1) == encode({"id": 1, "value": value})
    assert store.stored_bytes() == len(encode({"id": 1, "value": value}))
    assert store.remove("a.things", (), 1) == {"id": 1, "value": value}
    assert store.stored_bytes() == 0


TRICKY = ["jira", "JIRA", "é", 'a"quote', "back\\slash", "tab\there", "lone \ud800", "12345678901234567890", "", " "]


@pytest.mark.parametrize("wanted", [*TRICKY, 5, True, None])
def test_a_list_decodes_only_items_that_can_match_and_keeps_every_item_that_does(wanted: Any):
    """The bytes an equality filter requires are a necessary test only: whatever the value
    (escaped in JSON or not, stored in UTF-8 or in ASCII escapes), the answer is the full filter's."""
    store = Store()
    values: list[Any] = [*TRICKY, 5, 5.0, True, 1, None, ["jira"], {"id": "jira"}]
    for number, value in enumerate(values):
        store.put("a.things", (), number, {"id": number, "system": {"id": value}, "other": "jira"})
        store.put("a.things", (), f"lone-{number}", {"id": f"lone-{number}", "system": {"id": value}, "x": "\ud800"})
    filters = (Filter("system", "system.id"),)
    query = {"system": wanted}
    everything = apply_filters(store.items("a.things", ()), filters, query)
    assert everything, "each value is stored"
    assert apply_filters(store.items("a.things", (), required_bytes(filters, query)), filters, query) == everything
