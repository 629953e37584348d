"""The console's API in process: sign-in, roles, CSRF, origin checks, keys, deployments, metrics.

Agents are seeded straight into a real SQLite store (versions, a pointer on the local target with
no process behind it), so these tests need no running agent; the browser test deploys for real.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agentdock.dashboard import create_dashboard
from agentdock.dashboard.auth import CONSOLE, ensure_admin_key
from agentdock.ops.keys import create_key
from agentdock.security.jwt import issue_token
from agentdock.spec.frozen import spec_from_frozen
from agentdock.store import open_store
from agentdock.store.base import MetadataStore

pytestmark = pytest.mark.functional

SPEC: dict[str, Any] = {
    "version": "1.0",
    "agent": {"name": "alpha", "entrypoint": "agent:build", "framework": "langgraph"},
    "model": {"provider": "openai", "name": "gpt-4o-mini"},
    "io_schema": {
        "input": {"type": "object", "properties": {"text": {"type": "string"}}},
        "output": {"type": "object", "properties": {"reply": {"type": "string"}}},
    },
    "auth": {"mode": "jwt", "jwt": {"secret_key": "${CONSOLE_TEST_JWT}"}, "api_keys": {"enabled": True}},
}


def _seed(store: MetadataStore, name: str, versions: int = 2) -> None:
    spec = json.loads(json.dumps(SPEC).replace('"alpha"', json.dumps(name)))
    for n in range(1, versions + 1):
        store.create_version(
            name, content_hash=f"sha256:{n:064d}", target="local", image=None, spec=spec, created_by="tester"
        )
        store.set_version_status(name, n, "live" if n == versions else "retired")
    store.move_pointer(
        name,
        "local",
        "live",
        expected_revision=None,
        live_version=versions,
        previous_version=versions - 1 or None,
        url="http://127.0.0.1:9",
        status="live",
        details={"port": 9},
    )


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MetadataStore:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AGENTDOCK_KEY_PEPPER", raising=False)
    meta = open_store(f"sqlite:///{tmp_path / 'console.db'}")
    _seed(meta, "alpha")
    _seed(meta, "beta", versions=1)
    return meta


@pytest.fixture
def client(store: MetadataStore) -> TestClient:
    return TestClient(create_dashboard(store), base_url="http://127.0.0.1:8765")


def sign_in(client: TestClient, **body: str) -> dict[str, Any]:
    res = client.post("/api/session", json=body)
    assert res.status_code == 200, res.text
    client.headers["x-csrf-token"] = res.json()["csrf"]
    return dict(res.json())


def console_key(store: MetadataStore, role: str) -> str:
    return create_key(store, CONSOLE, role, actor="tester")[0]


def test_admin_key_is_minted_once_and_signs_in(store: MetadataStore, client: TestClient) -> None:
    key = ensure_admin_key(store, actor="tester")
    assert key and key.startswith("agd_")
    assert ensure_admin_key(store, actor="tester") is None  # an active one exists: no second key
    me = sign_in(client, key=key)
    assert me["role"] == "admin" and me["agent"] is None and "key_manage" in me["permissions"]
    cookie = client.cookies.get("agentdock_console")
    assert cookie and key not in cookie
    agents = client.get("/api/agents").json()["agents"]
    assert [a["agent"] for a in agents] == ["alpha", "beta"]  # the console principal is not an agent
    assert agents[0]["live_version"] == 2 and agents[0]["target"] == "local"


@pytest.mark.parametrize("body", [{}, {"key": "agd_nope"}, {"key": "agd_000000000000_" + "x" * 43}])
def test_bad_sign_in_is_401_with_the_envelope(client: TestClient, body: dict[str, str]) -> None:
    res = client.post("/api/session", json=body)
    assert res.status_code in (400, 401)
    assert set(res.json()) >= {"error", "code", "detail", "trace_id"}


def test_anonymous_gets_nothing(client: TestClient) -> None:
    for path in ("/api/agents", "/api/agents/alpha", "/api/agents/alpha/keys", "/api/events"):
        res = client.get(path)
        assert res.status_code == 401 and res.json()["error"] == "AuthenticationError"
    assert client.post("/api/agents/alpha/rollback", json={}).status_code == 401


def test_state_changes_need_the_csrf_token_and_same_origin(store: MetadataStore, client: TestClient) -> None:
    sign_in(client, key=console_key(store, "admin"))
    token = client.headers.pop("x-csrf-token")
    res = client.post("/api/agents/alpha/keys", json={"role": "developer"})
    assert res.status_code == 403 and "CSRF" in res.json()["detail"]
    client.headers["x-csrf-token"] = "wrong"
    assert client.post("/api/agents/alpha/keys", json={"role": "developer"}).status_code == 403
    client.headers["x-csrf-token"] = token
    evil = client.post(
        "/api/agents/alpha/keys", json={"role": "developer"}, headers={"origin": "http://evil.test"}
    )
    assert evil.status_code == 403 and "cross-origin" in evil.json()["detail"]
    assert client.post("/api/agents/alpha/keys", json={"role": "developer"}).status_code == 200


def test_viewer_is_read_only(store: MetadataStore, client: TestClient) -> None:
    sign_in(client, key=console_key(store, "viewer"))
    assert client.get("/api/agents").status_code == 200
    assert client.get("/api/agents/alpha/deployments").status_code == 200
    refused = [
        client.get("/api/agents/alpha/keys"),
        client.post("/api/agents/alpha/keys", json={"role": "developer"}),
        client.post("/api/agents/alpha/rollback", json={"version": 1}),
        client.post("/api/agents/alpha/promote", json={}),
        client.get("/api/agents/alpha/logs"),
        client.post("/api/agents/alpha/playground", json={"input": {}}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert "viewer" in refused[0].json()["detail"]
    assert store.get_pointer("alpha", "local").live_version == 2  # nothing moved


def test_developer_can_roll_back_but_not_manage_keys(store: MetadataStore, client: TestClient) -> None:
    sign_in(client, key=console_key(store, "developer"))
    assert client.get("/api/agents/alpha/keys").status_code == 403
    res = client.post("/api/agents/alpha/rollback", json={"version": "one"})
    assert res.status_code == 400  # validated before any target is touched


def test_agent_key_sees_only_its_agent_with_its_role(store: MetadataStore, client: TestClient) -> None:
    secret, _ = create_key(store, "alpha", "admin", actor="tester")
    me = sign_in(client, key=secret)
    assert me["agent"] == "alpha"
    assert [a["agent"] for a in client.get("/api/agents").json()["agents"]] == ["alpha"]
    assert client.get("/api/agents/beta").status_code == 403
    assert client.get("/api/agents/beta/keys").status_code == 403
    assert client.get("/api/agents/alpha/keys").status_code == 200


def test_jwt_of_the_agent_signs_in(
    store: MetadataStore, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s" * 40
    monkeypatch.setenv("CONSOLE_TEST_JWT", secret)
    spec = spec_from_frozen(SPEC)
    token = issue_token(spec, sub="ops", role="viewer", ttl_s=300, secret=secret)
    me = sign_in(client, agent="alpha", token=token)
    assert me["actor"] == "alpha:jwt:ops" and me["role"] == "viewer"
    forged = issue_token(spec, sub="ops", role="admin", ttl_s=300, secret="t" * 40)
    assert client.post("/api/session", json={"agent": "alpha", "token": forged}).status_code == 401


def test_keys_are_shown_once_audited_and_revocable(store: MetadataStore, client: TestClient) -> None:
    me = sign_in(client, key=console_key(store, "admin"))
    made = client.post("/api/agents/alpha/keys", json={"role": "developer", "expires_in": "30d"}).json()
    assert made["key"].startswith("agd_") and made["role"] == "developer"
    listing = client.get("/api/agents/alpha/keys").text
    assert made["key"] not in listing and made["key_id"] in listing and "hash" not in listing
    bad = client.post("/api/agents/alpha/keys", json={"role": "nobody"})
    assert bad.status_code == 400 and "no role" in bad.json()["detail"]
    res = client.post(f"/api/agents/alpha/keys/{made['key_id']}/revoke", json={})
    assert res.json()["state"] == "revoked"
    actions = [(a.action, a.actor) for a in store.list_audit("alpha", limit=10)]
    assert ("key.revoke", f"dashboard:{me['actor']}") in actions
    assert ("key.create", f"dashboard:{me['actor']}") in actions


def test_rollback_of_an_unknown_version_is_a_clear_error(store: MetadataStore, client: TestClient) -> None:
    sign_in(client, key=console_key(store, "admin"))
    res = client.post("/api/agents/alpha/rollback", json={"version": 7})
    assert res.status_code in (404, 409)
    assert res.json()["error"] and "7" in res.json()["detail"]
    assert store.get_pointer("alpha", "local").live_version == 2


def test_page_and_assets_carry_a_strict_csp(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert (
        client.get("/static/app.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert client.get("/static/../auth.py").status_code == 404
    assert client.get("/static/secrets.txt").status_code == 404


def test_metrics_come_from_the_request_log(
    store: MetadataStore, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentdock.dashboard import service

    now = time.time()
    lines = [
        json.dumps(
            {
                "ts": now - 5,
                "msg": "request",
                "status": 200,
                "latency_ms": 10.0,
                "tokens": {"input_tokens": 3, "output_tokens": 5},
                "cost_usd": 0.001,
            }
        ),
        json.dumps(
            {"ts": now - 4, "msg": "request", "status": 500, "latency_ms": 30.0, "error": "AgentError"}
        ),
        json.dumps({"ts": now - 3, "msg": "request", "route": "/health", "status": 200, "latency_ms": 1.0}),
        "INFO: a uvicorn line that is not JSON",
    ]
    monkeypatch.setattr(service, "log_lines", lambda _store, _agent, **_kw: list(lines))
    sign_in(client, key=console_key(store, "viewer"))
    data = client.get("/api/agents/alpha/metrics?window=5m").json()
    assert data["requests"] == 2 and data["errors"] == 1 and data["tokens_out"] == 5
    assert data["errors_by_type"] == {"AgentError": 1} and data["cost_usd"] == 0.001
    assert client.get("/api/agents/alpha/metrics?window=3y").status_code == 404
