"""What each real backend promises beyond the shared contract: URL forms, WAL, the DynamoDB
table design (GSI, TTL), database-level immutability, open_store defaults."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from agentdock.errors import StoreError, StoreNotInitialized
from agentdock.store import actor, default_store_url, open_store
from agentdock.store.dynamodb import DynamoDBStore
from agentdock.store.memory import MemoryStore
from agentdock.store.postgres import PostgresStore, split_schema
from agentdock.store.sqlite import SQLiteStore, path_from_url

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////tmp/a/x.db", "/tmp/a/x.db"),
        ("sqlite:///tmp/a/x.db", "/tmp/a/x.db"),
        ("sqlite://rel/x.db", "rel/x.db"),
        ("sqlite:///~/x.db", str(Path.home() / "x.db")),
    ],
)
def test_sqlite_url_forms(url: str, path: str) -> None:
    assert path_from_url(url) == Path(path)


def test_open_store_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    assert default_store_url() == f"sqlite:///{tmp_path / 'home' / 'agentdock.db'}"
    with open_store() as s:  # the embedded default creates its schema on first use
        assert isinstance(s, SQLiteStore) and s.list_agents() == []
    monkeypatch.setenv("AGENTDOCK_STORE", "memory://shared-test")
    shared = open_store()
    shared.ensure_agent("a")
    assert isinstance(shared, MemoryStore) and open_store("memory://shared-test") is shared
    assert open_store("memory://") is not open_store("memory://")
    monkeypatch.setenv("AGENTDOCK_ACTOR", "ci")
    assert actor("alice") == "alice" and actor() == "ci"
    monkeypatch.delenv("AGENTDOCK_ACTOR")
    assert actor()


def test_sqlite_is_wal_and_never_creates_a_file_by_accident(sqlite_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.db"
    with pytest.raises(StoreNotInitialized):
        open_store(f"sqlite:///{missing}", auto_init=False).list_agents()
    assert not missing.exists()
    with open_store(sqlite_url) as s:
        s.ensure_agent("a")
    with sqlite3.connect(path_from_url(sqlite_url)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version")] == [1]


def test_sqlite_refuses_edits_of_versions_and_audit_below_the_api(sqlite_url: str) -> None:
    with open_store(sqlite_url) as s:
        s.create_version("a", content_hash="h", target="local", spec={}, created_by="me")
    with sqlite3.connect(path_from_url(sqlite_url)) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute("UPDATE versions SET content_hash = 'evil'")
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute("DELETE FROM versions")


def test_postgres_refuses_edits_below_the_api(postgres_url: str) -> None:
    url = f"{postgres_url}&schema=t_{uuid.uuid4().hex[:12]}"
    s = open_store(url, auto_init=False)
    assert isinstance(s, PostgresStore)
    try:
        s.init()
        s.init()  # idempotent, one schema_version row
        s.create_version("a", content_hash="h", target="local", spec={"k": [1]}, created_by="me")
        with s._tx() as conn:
            assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"), s._tx() as conn:
            conn.execute("UPDATE versions SET content_hash = 'evil'")
        assert s.get_version("a", 1).content_hash == "h"
    finally:
        with psycopg.connect(split_schema(url)[0], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{s.schema}" CASCADE')
        s.close()


def test_postgres_schema_parameter_is_validated() -> None:
    with pytest.raises(StoreError, match="invalid schema"):
        split_schema("postgresql://u@h/db?schema=bad;name")
    assert split_schema("postgres://u@h/db?schema=ok_1&sslmode=disable") == (
        "postgresql://u@h/db?sslmode=disable",
        "ok_1",
    )


def test_dynamodb_table_design(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)  # no endpoint_url in the URL: the env is honoured
    table = f"agentdock-design-{uuid.uuid4().hex[:8]}"
    s = open_store(f"dynamodb://{table}?region=us-east-1", auto_init=False)
    assert isinstance(s, DynamoDBStore) and s.endpoint_url == moto_server
    try:
        s.init()
        s.init()
        client = s.io.client
        desc = client.describe_table(TableName=table)["Table"]
        assert {k["AttributeName"]: k["KeyType"] for k in desc["KeySchema"]} == {"PK": "HASH", "SK": "RANGE"}
        assert [g["IndexName"] for g in desc["GlobalSecondaryIndexes"]] == ["GSI1"]
        ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "ttl" and ttl["TimeToLiveStatus"] == "ENABLED"

        s.create_version("a", content_hash="h", target="lambda", spec={}, created_by="me")
        s.incr_counter("rl:viewer:api_key:k", 60, now=1_700_000_040.0)
        item = client.get_item(TableName=table, Key={"PK": {"S": "AGENT#a"}, "SK": {"S": "V#0000000001"}})[
            "Item"
        ]
        assert item["status"] == {"S": "registered"} and item["content_hash"] == {"S": "h"}
        counter = client.get_item(
            TableName=table, Key={"PK": {"S": "CTR#rl:viewer:api_key:k#1700000040"}, "SK": {"S": "CTR"}}
        )["Item"]
        assert counter["n"] == {"N": "1"} and int(counter["ttl"]["N"]) == 1_700_000_040 + 60 + 3600
    finally:
        s.io.client.delete_table(TableName=table)


def test_unknown_scheme() -> None:
    with pytest.raises(StoreError) as info:
        open_store("redis://localhost")
    assert "sqlite:///" in (info.value.hint or "")
