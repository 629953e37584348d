"""``agentdock keys | versions | audit | store init`` through Typer, on real stores."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agentdock.cli import store_cmds
from agentdock.security.apikeys import parse_key_id, verify_api_key
from agentdock.store import open_store

pytestmark = pytest.mark.functional


@pytest.fixture
def cli(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))  # never ~/.agentdock
    monkeypatch.setenv("AGENTDOCK_ACTOR", "ci-bot")
    app = typer.Typer()
    store_cmds.register(app)
    runner = CliRunner()

    def run(*args: str, store: str | None = sqlite_url, code: int = 0) -> Any:
        argv = [*args, "--json"] + (["--store", store] if store else [])
        result = runner.invoke(app, argv)
        assert result.exit_code == code, (result.stdout, result.stderr)
        assert "Traceback" not in result.output
        return json.loads(result.stdout) if result.stdout.strip().startswith("{") else result

    return run


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_store_init_is_idempotent_and_audited(cli: Any, sqlite_url: str) -> None:
    first = cli("store", "init", "--actor", "alice")
    assert first == {"ok": True, "store": sqlite_url, "schema_version": 1}
    cli("store", "init")
    records = cli("audit")["records"]
    assert [(r["action"], r["actor"]) for r in records] == [("store.init", "ci-bot"), ("store.init", "alice")]


def test_keys_lifecycle(cli: Any, sqlite_url: str) -> None:
    created = cli("keys", "create", "demo", "--role", "developer", "--expires-in", "30d")
    secret = created["key"]
    assert parse_key_id(secret) == created["key_id"]
    stored = open_store(sqlite_url).get_key(created["key_id"])
    assert stored is not None and verify_api_key(secret, stored.key_hash) and stored.role == "developer"
    assert abs(_iso(created["expires_at"]) - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    assert created["bootstrap"] == f"{stored.key_id}:developer:{stored.key_hash}"

    listed = cli("keys", "list", "demo")
    assert [(k["key_id"], k["state"]) for k in listed["keys"]] == [(created["key_id"], "active")]
    text = json.dumps(listed)
    assert secret not in text and stored.key_hash not in text and "key_hash" not in text

    rotated = cli("keys", "rotate", "demo", created["key_id"])
    assert rotated["key_id"] != created["key_id"] and rotated["role"] == "developer"
    assert rotated["revoked_key_id"] == created["key_id"]
    assert abs(_iso(rotated["expires_at"]) - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    states = {k["key_id"]: k["state"] for k in cli("keys", "list", "demo")["keys"]}
    assert states == {created["key_id"]: "revoked", rotated["key_id"]: "active"}

    revoked = cli("keys", "revoke", "demo", rotated["key_id"])
    assert revoked["already"] is False and revoked["revoked_at"]
    assert cli("keys", "revoke", "demo", rotated["key_id"])["already"] is True
    actions = [(r["action"], r["actor"]) for r in cli("audit", "demo")["records"]]
    assert actions == [("key.revoke", "ci-bot"), ("key.rotate", "ci-bot"), ("key.create", "ci-bot")]


def test_key_mistakes_are_clear_errors(cli: Any) -> None:
    assert (
        "invalid duration"
        in cli("keys", "create", "demo", "--role", "viewer", "--expires-in", "soon", code=2)["error"][
            "message"
        ]
    )
    assert "invalid role" in cli("keys", "create", "demo", "--role", "X", code=2)["error"]["message"]
    key_id = cli("keys", "create", "demo", "--role", "viewer")["key_id"]
    wrong = cli("keys", "revoke", "other", key_id, code=1)["error"]
    assert "no API key" in wrong["message"] and wrong["hint"] == "agentdock keys list other"
    cli("keys", "revoke", "demo", key_id)
    assert "is revoked" in cli("keys", "rotate", "demo", key_id, code=2)["error"]["message"]


def test_roles_and_rotation_come_from_the_registered_dockfile(cli: Any, sqlite_url: str) -> None:
    spec = {"auth": {"roles": [{"name": "ops", "permissions": ["invoke"]}], "api_keys": {"rotation_days": 7}}}
    with open_store(sqlite_url) as s:
        s.create_version("demo", content_hash="h", target="local", spec=spec, created_by="me")
    refused = cli("keys", "create", "demo", "--role", "developer", code=2)["error"]["message"]
    assert "no role 'developer'" in refused and "ops" in refused
    created = cli("keys", "create", "demo", "--role", "ops")
    assert abs(_iso(created["expires_at"]) - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)


def test_versions_show_numbers_and_live_aliases(cli: Any, sqlite_url: str) -> None:
    with open_store(sqlite_url) as s:
        for i in range(2):
            s.create_version(
                "demo", content_hash=f"sha256:{i}", target="local", spec={}, created_by="me", label=f"0.{i}"
            )
        s.move_pointer("demo", "local", "live", expected_revision=None, live_version=2, previous_version=1)
    out = cli("versions", "demo")
    assert [(v["number"], v["label"], v["live_at"]) for v in out["versions"]] == [
        (1, "0.0", []),
        (2, "0.1", ["local/live"]),
    ]
    assert out["pointers"][0]["live_version"] == 2 and out["pointers"][0]["revision"] == 1
    assert "no agent named ghost" in cli("versions", "ghost", code=1)["error"]["message"]


def test_audit_limit(cli: Any) -> None:
    for _ in range(3):
        cli("keys", "create", "demo", "--role", "viewer")
    cli("keys", "create", "other", "--role", "viewer")
    assert len(cli("audit", "--limit", "2")["records"]) == 2
    assert {r["agent"] for r in cli("audit", "demo")["records"]} == {"demo"}


def test_default_store_lives_in_agentdock_home(cli: Any, tmp_path: Any) -> None:
    cli("keys", "create", "demo", "--role", "viewer", store=None)
    assert (tmp_path / "home" / "agentdock.db").exists()


def test_bad_store_url(cli: Any) -> None:
    err = cli("keys", "list", "demo", store="redis://x", code=1)["error"]
    assert "unknown store URL scheme" in err["message"]


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["dynamodb", "postgres"])
def test_remote_store_says_to_run_init_then_works(
    cli: Any, backend: str, store_url_for: Any, drop_store: Any
) -> None:
    url = store_url_for(backend)
    err = cli("keys", "list", "demo", store=url, code=1)["error"]
    assert err["name"] == "StoreNotInitialized" and f"agentdock store init --store {url}" in err["hint"]
    try:
        cli("store", "init", store=url)
        key_id = cli("keys", "create", "demo", "--role", "viewer", store=url)["key_id"]
        assert [k["key_id"] for k in cli("keys", "list", "demo", store=url)["keys"]] == [key_id]
    finally:
        drop_store(open_store(url, auto_init=False))


def test_unreachable_postgres_is_quick_and_hides_the_password(cli: Any) -> None:
    started = time.monotonic()
    err = cli("keys", "list", "demo", store="postgresql://u:hunter2@127.0.0.1:1/db", code=1)["error"]
    assert time.monotonic() - started < 5
    assert "cannot connect to PostgreSQL" in err["message"] and "hunter2" not in json.dumps(err)
