"""Concurrency and state: 64 clients at once against a real `specmock serve`, and a
hypothesis state machine holding the mock to a simple model of its state.

Under load every acknowledged write must be visible afterwards, ids unique,
counts must add up (created - deleted == listed), a contested name must be
won exactly once, and nothing may answer 5xx.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from conftest import ALM_PARAMS, BEARER, ORG, OTHER_ORG, SDE_TOKEN, Served, conformance_hook, start_server, stop_server
from specmock import MockApp
from specmock._testing.transport import SyncASGITransport

CLIENTS = 64
ROUNDS = 6
SCAN_TYPES = ["sast", "dast", "sca", "container"]
SDE_ALM = "/api/v2/connectors/alm/"


def versori(org: str) -> str:
    return f"/api/connect/v1/o/{org}"


@dataclass
class Tally:
    """What one client did and was told."""

    created: dict[str, str] = field(default_factory=dict)  # AppSec+ id -> its last acknowledged name
    deleted: set[str] = field(default_factory=set)
    scans: list[str] = field(default_factory=list)
    versori: dict[str, list[str]] = field(default_factory=dict)  # organisation -> connector ids
    sde: list[int] = field(default_factory=list)
    contested: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)


def client_work(url: str, number: int, start: threading.Barrier) -> Tally:
    tally = Tally()
    with httpx.Client(base_url=url, timeout=60) as api:

        def call(method: str, path: str, expected: set[int], auth: dict[str, str], **kwargs: Any) -> httpx.Response:
            response = api.request(method, path, headers=auth, **kwargs)
            tally.statuses[response.status_code] += 1
            if response.status_code not in expected:
                tally.unexpected.append(f"{method} {path} -> {response.status_code} {response.text[:200]}")
            return response

        start.wait()
        contested = call(
            "POST",
            "/connectors",
            {201, 409},
            BEARER,
            json={"type": "jira", "name": "Contested", "config": {"project": f"p{number}"}},
        )
        tally.contested.append(contested.status_code)
        if contested.status_code == 201:
            tally.created[contested.json()["id"]] = "Contested"
        for round_ in range(ROUNDS):
            name = f"client-{number:02d}-round-{round_}"
            body = {"type": "github", "name": name, "config": {"apiUrl": f"https://git.example.com/{number}"}}
            created = call("POST", "/connectors", {201}, BEARER, json=body)
            if created.status_code != 201:
                continue
            connector = created.json()["id"]
            tally.created[connector] = name
            renamed = f"{name}-renamed"
            updated = call("PUT", f"/connectors/{connector}", {200}, BEARER, json={"name": renamed, "status": "error"})
            if updated.status_code == 200:
                tally.created[connector] = renamed
            call("GET", f"/connectors/{connector}", {200}, BEARER)
            if (number + round_) % 2:
                if call("DELETE", f"/connectors/{connector}", {204}, BEARER).status_code == 204:
                    tally.deleted.add(connector)
                call("GET", f"/connectors/{connector}", {404}, BEARER)
            scan = call(
                "POST",
                "/scans",
                {201, 409},  # 409: a scan of that type is already queued or running
                BEARER,
                json={"applicationId": "app-12345", "scanType": SCAN_TYPES[(number + round_) % 4]},
            )
            if scan.status_code == 201:
                tally.scans.append(scan.json()["id"])
            if round_ % 3 == 0:
                org = ORG if number % 2 else OTHER_ORG
                made = call(
                    "POST",
                    f"{versori(org)}/protocols/http/connectors",
                    {201},
                    BEARER,
                    json={"name": name, "baseUrl": "https://example.com", "authSchemeConfigs": []},
                )
                if made.status_code == 201:
                    tally.versori.setdefault(org, []).append(made.json()["id"])
                alm = call(
                    "POST",
                    SDE_ALM,
                    {201},
                    SDE_TOKEN,
                    json={"name": name, "system": {"id": "jira"}, "params": ALM_PARAMS["jira"]},
                )
                if alm.status_code == 201:
                    tally.sde.append(alm.json()["id"])
            call("GET", "/connectors", {200}, BEARER)
    return tally


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    served = start_server("--seed", "11")
    try:
        yield served
    finally:
        stop_server(served)


def versori_listing(api: httpx.Client, org: str) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"first": 100, **({"after": after} if after else {})}
        page = api.get(f"{versori(org)}/connectors", params=params, headers=BEARER)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += [c["id"] for c in body["connectors"]]
        after = body.get("next")
        if not after:
            return ids


def test_64_concurrent_clients_lose_no_write(server: Served) -> None:
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        tallies = list(pool.map(lambda n: client_work(server.url, n, start), range(CLIENTS)))

    statuses: Counter[int] = sum((t.statuses for t in tallies), Counter())
    unexpected = [line for t in tallies for line in t.unexpected]
    assert not [s for s in statuses if s >= 500], statuses
    assert not unexpected, unexpected[:20]

    created = {i: name for t in tallies for i, name in t.created.items()}
    deleted = {i for t in tallies for i in t.deleted}
    assert sum(len(t.created) for t in tallies) == len(created), "an id was handed out twice"
    assert all(re.fullmatch(r"conn-\d{3,}", i) for i in created)
    assert sorted(t.contested.count(201) for t in tallies).count(1) == 1, "the contested name was won != once"

    with httpx.Client(base_url=server.url, timeout=60) as api:
        listed = api.get("/connectors", headers=BEARER).json()
        listed_ids = [c["id"] for c in listed]
        assert len(listed_ids) == len(set(listed_ids))
        assert len(created) - len(deleted) == len(listed_ids)
        assert set(listed_ids) == set(created) - deleted
        assert {c["id"]: c["name"] for c in listed} == {i: n for i, n in created.items() if i not in deleted}

        scans = [s for t in tallies for s in t.scans]
        assert len(scans) == len(set(scans))
        listed_scans = [s["id"] for s in api.get("/scans", headers=BEARER).json()]
        assert len(listed_scans) == len(set(listed_scans))
        assert set(scans) == set(listed_scans)

        for org in (ORG, OTHER_ORG):
            made = [i for t in tallies for i in t.versori.get(org, [])]
            assert made and len(made) == len(set(made))
            assert sorted(versori_listing(api, org)) == sorted(made)

        sde = [i for t in tallies for i in t.sde]
        assert len(sde) == len(set(sde))
        listed_sde = [c["id"] for c in api.get(SDE_ALM, headers=SDE_TOKEN).json()["results"]]
        assert sorted(listed_sde) == sorted([1, 2, *sde])  # the spec's two fixtures, and ours

        journal = api.get("/__specmock/journal", params={"operationId": "appsecplus:RegisterConnector"}).json()
        acknowledged = [e for e in journal["entries"] if e["status"] == 201]
        assert len(acknowledged) == len(created)

    print(
        f"\nconcurrency: {CLIENTS} clients, {sum(statuses.values())} requests {dict(sorted(statuses.items()))}; "
        f"AppSec+ connectors created {len(created)}, deleted {len(deleted)}, listed {len(listed_ids)}; "
        f"scans {len(scans)}; Versori {sum(len(t.versori.get(o, [])) for t in tallies for o in (ORG, OTHER_ORG))}; "
        f"SD Elements {len(sde)}"
    )


# -- the state machine ------------------------------------------------------------------

NAMES = ["alpha", "beta", "gamma", "delta"]
STATUSES = ["active", "inactive", "error"]
TYPES = ["github", "jira", "slack"]
SYSTEMS = ["github", "jira", "rally"]
_shared: list[MockApp] = []


def shared_app() -> MockApp:
    """One MockApp for every run of the machine (reset at each start), as building one loads every spec."""
    if not _shared:
        _shared.append(MockApp(seed=5))
    return _shared[0]


class MockStateMachine(RuleBasedStateMachine):
    """AppSec+ connectors and SD Elements ALM connectors against a dict each."""

    def __init__(self) -> None:
        super().__init__()
        app = shared_app()
        app.reset(5)
        self.transport = SyncASGITransport(app)
        self.api = httpx.Client(
            transport=self.transport, base_url="http://mock", event_hooks={"response": [conformance_hook(app)]}
        )
        self.connectors: dict[str, dict[str, Any]] = {}
        self.connector_ids: list[str] = []  # every id ever handed out, in order
        fixtures = self.api.get(SDE_ALM, headers=SDE_TOKEN).json()["results"]
        self.alm: dict[int, dict[str, Any]] = {c["id"]: self.alm_view(c) for c in fixtures}
        self.alm_ids: list[int] = sorted(self.alm)

    def teardown(self) -> None:
        self.api.close()

    @staticmethod
    def alm_view(item: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": item["name"],
            "system": item["system"]["id"],
            "inaccessible": item["inaccessible"],
            "params": item["params"],
        }

    @staticmethod
    def connector_view(item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in ("name", "type", "status", "config")}

    def pick_connector(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*self.connector_ids, "conn-999", "missing"]))

    def pick_alm(self, data: st.DataObject) -> int:
        return data.draw(st.sampled_from([*self.alm_ids, 999]))

    # -- AppSec+ connectors --

    @rule(name=st.sampled_from(NAMES), kind=st.sampled_from(TYPES), host=st.integers(0, 9))
    def create_connector(self, name: str, kind: str, host: int) -> None:
        body = {"type": kind, "name": name, "config": {"apiUrl": f"https://h{host}.example.com"}}
        response = self.api.post("/connectors", json=body, headers=BEARER)
        if any(c["name"] == name for c in self.connectors.values()):
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 201, response.text
        item = response.json()
        assert item["id"] not in self.connector_ids, "an id was reused"
        self.connector_ids.append(item["id"])
        self.connectors[item["id"]] = {**body, "status": "active"}
        assert self.connector_view(item) == self.connectors[item["id"]]

    @rule(data=st.data())
    def get_connector(self, data: st.DataObject) -> None:
        connector = self.pick_connector(data)
        response = self.api.get(f"/connectors/{connector}", headers=BEARER)
        if connector not in self.connectors:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        assert self.connector_view(response.json()) == self.connectors[connector]

    @rule(
        data=st.data(),
        name=st.none() | st.sampled_from(NAMES),
        status=st.none() | st.sampled_from(STATUSES),
        host=st.none() | st.integers(0, 9),
    )
    def update_connector(self, data: st.DataObject, name: str | None, status: str | None, host: int | None) -> None:
        connector = self.pick_connector(data)
        body: dict[str, Any] = {"name": name, "status": status}
        body["config"] = {"apiUrl": f"https://h{host}.example.com"} if host is not None else None
        body = {k: v for k, v in body.items() if v is not None} or {"status": "inactive"}
        response = self.api.put(f"/connectors/{connector}", json=body, headers=BEARER)
        if connector not in self.connectors:
            assert response.status_code == 404, response.text
            return
        taken = any(c["name"] == name for i, c in self.connectors.items() if i != connector)
        if name is not None and taken:
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 200, response.text
        self.connectors[connector] = {**self.connectors[connector], **body}
        assert self.connector_view(response.json()) == self.connectors[connector]

    @rule(data=st.data())
    def delete_connector(self, data: st.DataObject) -> None:
        connector = self.pick_connector(data)
        response = self.api.delete(f"/connectors/{connector}", headers=BEARER)
        expected = 204 if self.connectors.pop(connector, None) is not None else 404
        assert response.status_code == expected, response.text

    @invariant()
    def connectors_listed_as_modelled(self) -> None:
        listed = self.api.get("/connectors", headers=BEARER).json()
        assert [c["id"] for c in listed] == [i for i in self.connector_ids if i in self.connectors]
        assert {c["id"]: self.connector_view(c) for c in listed} == self.connectors

    # -- SD Elements ALM connectors --

    @rule(name=st.sampled_from(NAMES), system=st.sampled_from([*SYSTEMS, "no-such-system"]), flag=st.booleans())
    def create_alm(self, name: str, system: str, flag: bool) -> None:
        params = {**ALM_PARAMS.get(system, {}), "project": name}
        body = {"name": name, "system": {"id": system}, "inaccessible": flag, "params": params}
        response = self.api.post(SDE_ALM, json=body, headers=SDE_TOKEN)
        if system not in SYSTEMS:
            assert response.status_code == 400, response.text
            assert set(response.json()) == {"system"}
            return
        assert response.status_code == 201, response.text
        item = response.json()
        assert item["id"] > max(self.alm_ids), "an id was reused"
        self.alm_ids.append(item["id"])
        self.alm[item["id"]] = {"name": name, "system": system, "inaccessible": flag, "params": body["params"]}
        assert self.alm_view(item) == self.alm[item["id"]]

    @rule(data=st.data())
    def get_alm(self, data: st.DataObject) -> None:
        alm = self.pick_alm(data)
        response = self.api.get(f"{SDE_ALM}{alm}/", headers=SDE_TOKEN)
        if alm not in self.alm:
            assert response.status_code == 404, response.text
            assert response.json() == {"detail": "Not found."}
            return
        assert response.status_code == 200, response.text
        assert self.alm_view(response.json()) == self.alm[alm]

    @rule(data=st.data(), name=st.sampled_from(NAMES), system=st.sampled_from(SYSTEMS), flag=st.none() | st.booleans())
    def replace_alm(self, data: st.DataObject, name: str, system: str, flag: bool | None) -> None:
        alm = self.pick_alm(data)
        body: dict[str, Any] = {
            "name": name,
            "system": {"id": system},
            "params": {**ALM_PARAMS[system], "project": name},
        }
        if flag is not None:
            body["inaccessible"] = flag
        response = self.api.put(f"{SDE_ALM}{alm}/", json=body, headers=SDE_TOKEN)
        if alm not in self.alm:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        # PUT replaces: what is not sent falls back to the default (inaccessible: false)
        self.alm[alm] = {"name": name, "system": system, "inaccessible": bool(flag), "params": body["params"]}
        assert self.alm_view(response.json()) == self.alm[alm]

    @rule(data=st.data(), name=st.none() | st.sampled_from(NAMES), flag=st.none() | st.booleans())
    def patch_alm(self, data: st.DataObject, name: str | None, flag: bool | None) -> None:
        alm = self.pick_alm(data)
        body = {k: v for k, v in {"name": name, "inaccessible": flag}.items() if v is not None}
        response = self.api.patch(f"{SDE_ALM}{alm}/", json=body, headers=SDE_TOKEN)
        if alm not in self.alm:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        self.alm[alm] = {**self.alm[alm], **body}
        assert self.alm_view(response.json()) == self.alm[alm]

    @rule(data=st.data())
    def delete_alm(self, data: st.DataObject) -> None:
        alm = self.pick_alm(data)
        response = self.api.delete(f"{SDE_ALM}{alm}/", headers=SDE_TOKEN)
        expected = 204 if self.alm.pop(alm, None) is not None else 404
        assert response.status_code == expected, response.text

    @invariant()
    def alm_listed_as_modelled(self) -> None:
        listed = self.api.get(SDE_ALM, headers=SDE_TOKEN).json()["results"]
        assert {c["id"]: self.alm_view(c) for c in listed} == self.alm
        paged = self.api.get(SDE_ALM, params={"page_size": 2}, headers=SDE_TOKEN).json()
        assert paged["count"] == len(self.alm)


MockStateMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_mock_state_matches_a_model = MockStateMachine.TestCase
