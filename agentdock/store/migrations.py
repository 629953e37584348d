"""Versioned schema migrations for the SQL backends (SQLite, Postgres).

``schema_version`` records every migration applied; ``init`` applies the missing ones inside one
transaction (serialised: SQLite ``BEGIN IMMEDIATE``, Postgres an advisory lock), so running
``agentdock store init`` twice, or from two machines at once, is safe. A new migration is a new
entry at the end of each list; an applied one is never edited.

Defence in depth: triggers refuse UPDATE/DELETE on ``versions`` (immutable bodies; the mutable
status lives in ``version_status``) and on ``audit`` (append-only).
"""

from __future__ import annotations

from typing import Any

Migration = tuple[int, tuple[str, ...]]

SQLITE: tuple[Migration, ...] = (
    (
        1,
        (
            "CREATE TABLE agents (name TEXT PRIMARY KEY, created_at TEXT NOT NULL)",
            """CREATE TABLE versions (
                agent TEXT NOT NULL, number INTEGER NOT NULL, content_hash TEXT NOT NULL,
                target TEXT NOT NULL, image TEXT, spec TEXT NOT NULL, created_by TEXT NOT NULL,
                created_at TEXT NOT NULL, label TEXT, PRIMARY KEY (agent, number))""",
            """CREATE TABLE version_status (
                agent TEXT NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,
                updated_at TEXT NOT NULL, PRIMARY KEY (agent, number))""",
            """CREATE TABLE pointers (
                agent TEXT NOT NULL, target TEXT NOT NULL, alias TEXT NOT NULL,
                live_version INTEGER, previous_version INTEGER, revision INTEGER NOT NULL,
                canary_version INTEGER, canary_weight REAL NOT NULL DEFAULT 0, status TEXT NOT NULL,
                url TEXT, details TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                PRIMARY KEY (agent, target, alias))""",
            """CREATE TABLE api_keys (
                key_id TEXT PRIMARY KEY, agent TEXT NOT NULL, role TEXT NOT NULL, key_hash TEXT NOT NULL,
                created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT, last_used_at TEXT)""",
            "CREATE INDEX api_keys_agent ON api_keys (agent, created_at)",
            """CREATE TABLE audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT, actor TEXT NOT NULL, action TEXT NOT NULL,
                agent TEXT, target TEXT, details TEXT NOT NULL, at TEXT NOT NULL)""",
            "CREATE INDEX audit_agent ON audit (agent, id)",
            "CREATE TABLE counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL, expires_at REAL NOT NULL)",
            "CREATE INDEX counters_expiry ON counters (expires_at)",
            "CREATE TABLE secrets (name TEXT PRIMARY KEY, sealed TEXT NOT NULL, updated_at TEXT NOT NULL)",
            """CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
               BEGIN SELECT RAISE(ABORT, 'agentdock: versions are immutable'); END""",
            """CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions
               BEGIN SELECT RAISE(ABORT, 'agentdock: versions are immutable'); END""",
            """CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
               BEGIN SELECT RAISE(ABORT, 'agentdock: the audit log is append-only'); END""",
            """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
               BEGIN SELECT RAISE(ABORT, 'agentdock: the audit log is append-only'); END""",
        ),
    ),
)

POSTGRES: tuple[Migration, ...] = (
    (
        1,
        (
            "CREATE TABLE agents (name TEXT PRIMARY KEY, created_at TIMESTAMPTZ NOT NULL)",
            """CREATE TABLE versions (
                agent TEXT NOT NULL REFERENCES agents (name), number INTEGER NOT NULL,
                content_hash TEXT NOT NULL, target TEXT NOT NULL, image TEXT, spec JSONB NOT NULL,
                created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, label TEXT,
                PRIMARY KEY (agent, number))""",
            """CREATE TABLE version_status (
                agent TEXT NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (agent, number),
                FOREIGN KEY (agent, number) REFERENCES versions (agent, number))""",
            """CREATE TABLE pointers (
                agent TEXT NOT NULL, target TEXT NOT NULL, alias TEXT NOT NULL,
                live_version INTEGER, previous_version INTEGER, revision BIGINT NOT NULL,
                canary_version INTEGER, canary_weight DOUBLE PRECISION NOT NULL DEFAULT 0,
                status TEXT NOT NULL, url TEXT, details JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (agent, target, alias))""",
            """CREATE TABLE api_keys (
                key_id TEXT PRIMARY KEY, agent TEXT NOT NULL, role TEXT NOT NULL, key_hash TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ, revoked_at TIMESTAMPTZ,
                last_used_at TIMESTAMPTZ)""",
            "CREATE INDEX api_keys_agent ON api_keys (agent, created_at)",
            """CREATE TABLE audit (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, actor TEXT NOT NULL, action TEXT NOT NULL,
                agent TEXT, target TEXT, details JSONB NOT NULL, at TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX audit_agent ON audit (agent, id)",
            "CREATE TABLE counters (key TEXT PRIMARY KEY, n BIGINT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
            "CREATE INDEX counters_expiry ON counters (expires_at)",
            "CREATE TABLE secrets (name TEXT PRIMARY KEY, sealed TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
            """CREATE FUNCTION agentdock_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'agentdock: % rows are immutable', TG_TABLE_NAME; END $$""",
            """CREATE TRIGGER versions_immutable BEFORE UPDATE OR DELETE ON versions
               FOR EACH ROW EXECUTE FUNCTION agentdock_refuse_change()""",
            """CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
               FOR EACH ROW EXECUTE FUNCTION agentdock_refuse_change()""",
        ),
    ),
)

LATEST = max(v for v, _ in SQLITE)
assert max(v for v, _ in POSTGRES) == LATEST, "every SQL dialect carries the same migrations"


def apply(conn: Any, migrations: tuple[Migration, ...], *, placeholder: str, now: str | Any) -> list[int]:
    """Apply the migrations newer than the recorded version on ``conn`` (inside the caller's
    transaction); return the versions applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
    applied = []
    for version, statements in migrations:
        if version <= current:
            continue
        for statement in statements:
            conn.execute(statement)
        conn.execute(
            f"INSERT INTO schema_version (version, applied_at) VALUES ({placeholder}, {placeholder})",
            (version, str(now)),
        )
        applied.append(version)
    return applied
