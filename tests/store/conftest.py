"""Store fixtures: ``store`` is one fresh, initialised store per test, parametrized over every
backend (memory, SQLite temp file, DynamoDB on a moto server over HTTP, real Postgres in a schema
of its own), plus ``raw_dump`` to look at what a backend really persisted."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentdock.store import MetadataStore, open_store
from agentdock.store.crypto import LocalKEK

BACKENDS = ["memory", "sqlite", "dynamodb", "postgres"]


def _store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    if backend == "dynamodb":
        endpoint = request.getfixturevalue("moto_server")
        return f"dynamodb://agentdock-test-{uuid.uuid4().hex[:10]}?region=us-east-1&endpoint_url={endpoint}"
    base = request.getfixturevalue("postgres_url")
    return f"{base}&schema=t_{uuid.uuid4().hex[:12]}"


def _drop(store: MetadataStore) -> None:
    """Remove what a test created on shared servers (the DynamoDB table, the Postgres schema)."""
    from agentdock.store.dynamodb import DynamoDBStore
    from agentdock.store.postgres import PostgresStore, split_schema

    if isinstance(store, DynamoDBStore):
        store.io.client.delete_table(TableName=store.table)
    elif isinstance(store, PostgresStore) and store.schema:
        import psycopg

        with psycopg.connect(split_schema(store.url)[0], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')


@pytest.fixture
def store_url_for(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """A fresh URL for a backend (not initialised)."""
    return lambda backend: _store_url(backend, request, tmp_path)


@pytest.fixture
def drop_store() -> Callable[[MetadataStore], None]:
    def drop(s: MetadataStore) -> None:
        try:
            _drop(s)
        finally:
            s.close()

    return drop


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    s = open_store(_store_url(request.param, request, tmp_path), auto_init=False)
    s.init()
    s.kek = LocalKEK(b"k" * 32)
    try:
        yield s
    finally:
        try:
            _drop(s)
        finally:
            s.close()


@pytest.fixture
def raw_dump() -> Callable[[MetadataStore], str]:
    """Everything a backend persisted for secrets, as text (for 'no plaintext at rest' checks)."""

    def dump(s: MetadataStore) -> str:
        from agentdock.store.dynamodb import DynamoDBStore
        from agentdock.store.memory import MemoryStore
        from agentdock.store.postgres import PostgresStore
        from agentdock.store.sqlite import SQLiteStore

        if isinstance(s, MemoryStore):
            return repr(s.__dict__)
        if isinstance(s, SQLiteStore):
            files = [s.path, Path(f"{s.path}-wal")]
            return "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
        if isinstance(s, DynamoDBStore):
            return repr(s.io.client.scan(TableName=s.table)["Items"])
        assert isinstance(s, PostgresStore)
        with s._tx() as conn:
            return repr(conn.execute("SELECT * FROM secrets").fetchall())

    return dump


@pytest.fixture
def env_kek(monkeypatch: pytest.MonkeyPatch) -> bytes:
    key = os.urandom(32)
    monkeypatch.setenv("AGENTDOCK_ENCRYPTION_KEY", base64.b64encode(key).decode())
    return key
