"""SD Elements ALM and analysis connectors as a client meets them: round trips, PATCH merges and PUT
clears, required params per ALM system, known systems expanded, page_size paging.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import ALM_PARAMS, REQUIRED_ALM_PARAMS, SDE_TOKEN
from operations_support import (
    ALM,
    ANALYSIS,
    RALLY,
    assert_error,
)

# The fixtures, by the names the tests ask for: `client` and `ids` ask for this module's `app`, not conftest's.
from operations_support import bundled_families as bundled_families
from operations_support import frozen_app as frozen_app
from operations_support import frozen_client as frozen_client
from operations_support import one_of_each as one_of_each
from operations_support import response_check as response_check

# -- SD Elements -----------------------------------------------------------------------------------------------------

RALLY_SYSTEM = {"id": "rally", "short_name": "Rally", "name": "Rally"}


def test_sdelements_alm_connector_round_trip(client):
    created = client.post(ALM, json=RALLY, headers=SDE_TOKEN)
    assert created.status_code == 201
    assert created.json() == {**RALLY, "id": 3, "system": RALLY_SYSTEM}
    assert client.get(ALM + "3/", headers=SDE_TOKEN).json() == created.json()
    assert client.get(ALM + "3", headers=SDE_TOKEN).json() == created.json()  # the trailing slash is optional
    assert [c["id"] for c in client.get(ALM, headers=SDE_TOKEN).json()["results"]] == [1, 2, 3]

    replaced = client.put(ALM + "3/", json={**RALLY, "name": "Rally (EU)"}, headers=SDE_TOKEN)
    assert replaced.json() == {**created.json(), "name": "Rally (EU)"}
    patched = client.patch(ALM + "3/", json={"inaccessible": True}, headers=SDE_TOKEN)
    assert patched.json() == {**replaced.json(), "inaccessible": True}
    assert client.get(ALM + "3/", headers=SDE_TOKEN).json() == patched.json()

    deleted = client.delete(ALM + "3/", headers=SDE_TOKEN)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(client.get(ALM + "3/", headers=SDE_TOKEN), 404, message="Not found.")
    assert_error(client.delete(ALM + "3/", headers=SDE_TOKEN), 404)
    assert [c["id"] for c in client.get(ALM, headers=SDE_TOKEN).json()["results"]] == [1, 2]
    # Ids are not reused.
    assert client.post(ALM, json=RALLY, headers=SDE_TOKEN).json()["id"] == 4


def test_a_write_answers_the_bytes_a_read_of_the_item_answers(client):
    """A connector's view is the item as stored (no secret, child or lifecycle): each write is
    answered with the very bytes the store wrote, which a read then answers too."""
    answers = [
        client.post(ALM, json=RALLY, headers=SDE_TOKEN),
        client.put(ALM + "3/", json={**RALLY, "name": "Rally (EU)"}, headers=SDE_TOKEN),
        client.patch(ALM + "3/", json={"inaccessible": True}, headers=SDE_TOKEN),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201)
        assert answer.headers["content-length"] == str(len(answer.content))
    assert client.get(ALM + "3/", headers=SDE_TOKEN).content == answers[-1].content
    assert answers[-1].json() == {**RALLY, "id": 3, "system": RALLY_SYSTEM, "name": "Rally (EU)", "inaccessible": True}


def test_sdelements_patch_merges_and_put_clears(client):
    client.post(ALM, json=RALLY, headers=SDE_TOKEN)
    patched = client.patch(ALM + "3/", json={"name": "Rally (EU)", "inaccessible": True}, headers=SDE_TOKEN).json()
    assert patched == {**RALLY, "id": 3, "system": RALLY_SYSTEM, "name": "Rally (EU)", "inaccessible": True}

    # PUT names no `inaccessible`: it goes back to its default; params are exactly the new ones.
    params = {"alm_server": "jira.example.com", "alm_user": "u", "alm_pass": "p"}
    body = {"name": "Rally", "system": {"id": "jira"}, "params": params}
    replaced = client.put(ALM + "3/", json=body, headers=SDE_TOKEN).json()
    assert replaced == {
        "id": 3,
        "name": "Rally",
        "system": {"id": "jira", "short_name": "JIRA", "name": "JIRA"},
        "inaccessible": False,
        "params": params,
    }


@pytest.mark.parametrize("system", sorted(REQUIRED_ALM_PARAMS))
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_sdelements_each_missing_required_param_is_named(client, app, system, method):
    """ "Required params will return appropriate errors when unspecified": DRF names each one."""
    path = ALM if method == "POST" else ALM + "1/"
    before = app.state()
    body = {"name": "No params", "system": {"id": system}, "params": {"sde_min_priority": "7"}}
    response = client.request(method, path, json=body, headers=SDE_TOKEN)
    assert response.status_code == 400
    assert response.json() == {"params": {name: ["This field is required."] for name in REQUIRED_ALM_PARAMS[system]}}
    # One param short is named alone; a blank one is refused as DRF words it.
    first, *rest = REQUIRED_ALM_PARAMS[system]
    params = dict.fromkeys(rest, "x")
    response = client.request(method, path, json={**body, "params": params}, headers=SDE_TOKEN)
    assert response.json() == {"params": {first: ["This field is required."]}}
    response = client.request(method, path, json={**body, "params": {**params, first: ""}}, headers=SDE_TOKEN)
    assert response.json() == {"params": {first: ["This field may not be blank."]}}
    assert app.state() == before
    ok = client.request(method, path, json={**body, "params": ALM_PARAMS[system]}, headers=SDE_TOKEN)
    assert ok.status_code == (201 if method == "POST" else 200), ok.text


def test_sdelements_patch_checks_the_merged_connector(client, app):
    """A PATCH names only what changes; the connector it leaves behind must still have its system's params."""
    before = app.state()
    moved = client.patch(ALM + "1/", json={"system": {"id": "jira"}}, headers=SDE_TOKEN)  # GitHub's params only
    assert moved.status_code == 400
    jira_missing = {"params": {"alm_pass": ["This field is required."], "alm_user": ["This field is required."]}}
    assert moved.json() == jira_missing
    emptied = client.patch(ALM + "2/", json={"params": {"alm_server": "jira.example.com"}}, headers=SDE_TOKEN)
    assert emptied.json() == jira_missing
    blank = client.patch(ALM + "1/", json={"params": {"alm_server": "", "alm_api_token": "t"}}, headers=SDE_TOKEN)
    assert blank.json() == {"params": {"alm_server": ["This field may not be blank."]}}
    assert app.state() == before

    # What the stored connector already has counts: a rename needs no params, a move brings its own.
    assert client.patch(ALM + "2/", json={"name": "JIRA (EU)"}, headers=SDE_TOKEN).status_code == 200
    moved = client.patch(ALM + "1/", json={"system": {"id": "jira"}, "params": ALM_PARAMS["jira"]}, headers=SDE_TOKEN)
    assert moved.status_code == 200, moved.text
    assert moved.json()["system"]["id"] == "jira"


@pytest.mark.parametrize(
    ("system", "short_name", "name"),
    [
        ("github", "GitHub", "GitHub"),
        ("jira", "JIRA", "JIRA"),
        ("rally", "Rally", "Rally"),
        ("trac", "Trac", "Trac"),
        ("hp_alm", "HP ALM", "HP ALM"),
        ("mingle", "Mingle", "Mingle"),
        ("pivotal_tracker", "Pivotal", "Pivotal Tracker"),
    ],
)
def test_sdelements_known_alm_systems_are_expanded(client, system, short_name, name):
    body = {**RALLY, "system": {"id": system}, "params": ALM_PARAMS[system]}
    created = client.post(ALM, json=body, headers=SDE_TOKEN)
    assert created.status_code == 201
    assert created.json()["system"] == {"id": system, "short_name": short_name, "name": name}


def test_sdelements_lists_are_paged_with_page_size(client):
    def page(path: str = ALM, **params: str) -> dict[str, Any]:
        response = client.get(path, params=params, headers=SDE_TOKEN)
        assert response.status_code == 200, response.text
        return response.json()

    assert list(page()) == ["results"]  # no page_size: one list, no paging fields
    first = page(page_size="1")
    assert (first["count"], [c["id"] for c in first["results"]], first["previous"]) == (2, [1], None)
    second = client.get(first["next"], headers=SDE_TOKEN).json()
    assert (second["count"], [c["id"] for c in second["results"]], second["next"]) == (2, [2], None)
    assert [c["id"] for c in client.get(second["previous"], headers=SDE_TOKEN).json()["results"]] == [1]
    assert [c["id"] for c in page(page_size="1000")["results"]] == [1, 2]
    assert_error(client.get(ALM, params={"page_size": "1", "page": "3"}, headers=SDE_TOKEN), 404)
    assert page(ANALYSIS, page_size="1") == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": 1,
                "name": "Fortify Connector",
                "system": {"id": "fortify", "name": "Fortify"},
                "inaccessible": False,
            }
        ],
    }
    assert [c["id"] for c in page(system="jira")["results"]] == [2]
