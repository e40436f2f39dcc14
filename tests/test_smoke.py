from conftest import BEARER


def test_register_then_get(client):
    created = client.post(
        "/connectors",
        json={"type": "github", "name": "GitHub Main", "config": {"apiUrl": "https://api.github.com", "token": "t"}},
        headers=BEARER,
    )
    assert created.status_code == 201
    assert created.json()["id"] == "conn-001"
    assert "token" not in created.json()["config"]
    assert client.get("/connectors/conn-001", headers=BEARER).json() == created.json()


def test_served(served):
    import httpx

    r = httpx.get(served.url + "/connectors", headers=BEARER)
    assert r.status_code == 200
    assert r.json() == []
