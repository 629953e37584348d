"""The contract in SQL, shared by the SQLite and Postgres backends.

Subclasses supply connections (``_tx`` a write transaction, ``_read`` a read), the dialect's
value conversions (``_ts``, ``_js``), error classification, and how to lock an agent row while
allocating a version number. SQL here is written with ``?`` placeholders; ``_q`` turns them into
the dialect's. Compare-and-set is ``UPDATE ... WHERE revision = ?`` (rowcount 1 or conflict);
conditional creates are primary keys (unique violation -> ``StoreConflict``).
"""

from __future__ import annotations

import json
import math
import time
from abc import abstractmethod
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from agentdock.errors import RecordNotFound, StoreConflict
from agentdock.store.base import (
    COUNTER_GRACE_S,
    AgentRecord,
    APIKeyRecord,
    AuditRecord,
    MetadataStore,
    Pointer,
    VersionRecord,
    check_pointer_fields,
    check_status,
    utcnow,
)

_V_COLS = "v.agent, v.number, v.content_hash, v.target, v.image, v.spec, v.created_by, v.created_at, v.label, s.status"
_P_COLS = (
    "agent, target, alias, live_version, previous_version, revision, canary_version, canary_weight, "
    "status, url, updated_at, details, created_at"
)
_K_COLS = "key_id, agent, role, key_hash, created_at, expires_at, revoked_at, last_used_at"
_PURGE_EVERY_S = 60.0


def dt_in(value: Any) -> datetime | None:
    """A stored timestamp (ISO text or a driver datetime) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def json_in(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


class SQLStore(MetadataStore):
    placeholder = "?"
    _last_purge = 0.0

    # --- dialect hooks --------------------------------------------------------------------
    @abstractmethod
    def _tx(self) -> AbstractContextManager[Any]:
        """A connection inside a write transaction (committed on success, rolled back on error)."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def _ts(self, value: datetime | None) -> Any: ...

    @abstractmethod
    def _js(self, value: Any) -> Any: ...

    @abstractmethod
    def _is_unique_violation(self, exc: BaseException) -> bool: ...

    def _lock_agent(self, conn: Any, agent: str) -> None:  # noqa: B027 - SQLite's BEGIN IMMEDIATE already serialises
        """Serialise version allocation for one agent (Postgres: SELECT ... FOR UPDATE)."""

    def _q(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _x(self, conn: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return conn.execute(self._q(sql), params)

    # --- agents and versions ----------------------------------------------------------------
    def _ensure_agent(self, conn: Any, name: str) -> None:
        self._x(
            conn,
            "INSERT INTO agents (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, self._ts(utcnow())),
        )

    def ensure_agent(self, name: str) -> AgentRecord:
        with self._tx() as conn:
            self._ensure_agent(conn, name)
            row = self._x(conn, "SELECT name, created_at FROM agents WHERE name = ?", (name,)).fetchone()
        return AgentRecord(name=row[0], created_at=dt_in(row[1]) or utcnow())

    def list_agents(self) -> list[AgentRecord]:
        with self._read() as conn:
            rows = self._x(conn, "SELECT name, created_at FROM agents ORDER BY name").fetchall()
        return [AgentRecord(name=r[0], created_at=dt_in(r[1]) or utcnow()) for r in rows]

    def _insert_version(self, conn: Any, record: VersionRecord) -> None:
        self._x(
            conn,
            "INSERT INTO versions (agent, number, content_hash, target, image, spec, created_by, created_at, label)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.agent,
                record.number,
                record.content_hash,
                record.target,
                record.image,
                self._js(record.spec),
                record.created_by,
                self._ts(record.created_at),
                record.label,
            ),
        )
        self._x(
            conn,
            "INSERT INTO version_status (agent, number, status, updated_at) VALUES (?, ?, ?, ?)",
            (record.agent, record.number, record.status, self._ts(record.created_at)),
        )

    def create_version(
        self,
        agent: str,
        *,
        content_hash: str,
        target: str,
        spec: dict[str, Any],
        created_by: str,
        image: str | None = None,
        label: str | None = None,
    ) -> VersionRecord:
        for _ in range(100):
            try:
                with self._tx() as conn:
                    self._ensure_agent(conn, agent)
                    self._lock_agent(conn, agent)
                    row = self._x(
                        conn, "SELECT COALESCE(MAX(number), 0) FROM versions WHERE agent = ?", (agent,)
                    ).fetchone()
                    record = VersionRecord(
                        agent, int(row[0]) + 1, content_hash, target, image, spec, created_by, utcnow(), label
                    )
                    self._insert_version(conn, record)
                return record
            except Exception as exc:  # a put_version took the number between our read and write
                if not self._is_unique_violation(exc):
                    raise
        raise StoreConflict(f"{agent}/versions", "could not allocate a version number after 100 attempts")

    def put_version(self, record: VersionRecord) -> VersionRecord:
        check_status(record.status)
        try:
            with self._tx() as conn:
                self._ensure_agent(conn, record.agent)
                self._insert_version(conn, record)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise StoreConflict(
                    f"{record.agent}/v{record.number}", "version exists; versions are immutable"
                ) from None
            raise
        return record

    def _version(self, row: Any) -> VersionRecord:
        return VersionRecord(
            agent=row[0],
            number=int(row[1]),
            content_hash=row[2],
            target=row[3],
            image=row[4],
            spec=json_in(row[5]),
            created_by=row[6],
            created_at=dt_in(row[7]) or utcnow(),
            label=row[8],
            status=row[9],
        )

    _V_FROM = (
        f"SELECT {_V_COLS} FROM versions v JOIN version_status s ON s.agent = v.agent AND s.number = v.number"
    )

    def get_version(self, agent: str, number: int) -> VersionRecord:
        with self._read() as conn:
            row = self._x(
                conn, self._V_FROM + " WHERE v.agent = ? AND v.number = ?", (agent, number)
            ).fetchone()
        if row is None:
            raise RecordNotFound(f"{agent}/v{number}", "no such version")
        return self._version(row)

    def list_versions(self, agent: str) -> list[VersionRecord]:
        with self._read() as conn:
            rows = self._x(conn, self._V_FROM + " WHERE v.agent = ? ORDER BY v.number", (agent,)).fetchall()
        return [self._version(r) for r in rows]

    def set_version_status(self, agent: str, number: int, status: str) -> None:
        check_status(status)
        with self._tx() as conn:
            cur = self._x(
                conn,
                "UPDATE version_status SET status = ?, updated_at = ? WHERE agent = ? AND number = ?",
                (status, self._ts(utcnow()), agent, number),
            )
            if cur.rowcount != 1:
                raise RecordNotFound(f"{agent}/v{number}", "no such version")

    # --- pointers -------------------------------------------------------------------------
    def _pointer(self, row: Any) -> Pointer:
        return Pointer(
            agent=row[0],
            target=row[1],
            alias=row[2],
            live_version=row[3],
            previous_version=row[4],
            revision=int(row[5]),
            canary_version=row[6],
            canary_weight=float(row[7]),
            status=row[8],
            url=row[9],
            updated_at=dt_in(row[10]),
            details=json_in(row[11]) or {},
            created_at=dt_in(row[12]),
        )

    def get_pointer(self, agent: str, target: str, alias: str = "live") -> Pointer | None:
        with self._read() as conn:
            row = self._x(
                conn,
                f"SELECT {_P_COLS} FROM pointers WHERE agent = ? AND target = ? AND alias = ?",
                (agent, target, alias),
            ).fetchone()
        return self._pointer(row) if row else None

    def list_pointers(self, agent: str) -> list[Pointer]:
        with self._read() as conn:
            rows = self._x(
                conn, f"SELECT {_P_COLS} FROM pointers WHERE agent = ? ORDER BY target, alias", (agent,)
            ).fetchall()
        return [self._pointer(r) for r in rows]

    def move_pointer(
        self, agent: str, target: str, alias: str, *, expected_revision: int | None, **fields: Any
    ) -> Pointer:
        check_pointer_fields(fields)
        where = f"pointer {agent}/{target}/{alias}"
        now = self._ts(utcnow())
        values = {k: (self._js(v or {}) if k == "details" else v) for k, v in fields.items()}
        try:
            with self._tx() as conn:
                if expected_revision is None:
                    row = self._insert_pointer(conn, agent, target, alias, values, now)
                else:
                    sets = "".join(f"{k} = ?, " for k in values)
                    row = self._x(
                        conn,
                        f"UPDATE pointers SET {sets}revision = revision + 1, updated_at = ?"
                        f" WHERE agent = ? AND target = ? AND alias = ? AND revision = ? RETURNING {_P_COLS}",
                        (*values.values(), now, agent, target, alias, expected_revision),
                    ).fetchone()
                    if row is None:
                        found = self._x(
                            conn,
                            "SELECT revision FROM pointers WHERE agent = ? AND target = ? AND alias = ?",
                            (agent, target, alias),
                        ).fetchone()
                        raise StoreConflict(
                            where,
                            f"expected revision {expected_revision}, found {found[0] if found else None}",
                        )
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise StoreConflict(where, "expected no pointer, found one") from None
            raise
        return self._pointer(row)

    def _insert_pointer(
        self, conn: Any, agent: str, target: str, alias: str, values: dict[str, Any], now: Any
    ) -> Any:
        self._ensure_agent(conn, agent)
        cols = {
            "live_version": None,
            "previous_version": None,
            "canary_version": None,
            "canary_weight": 0.0,
            "status": "live",
            "url": None,
            "details": self._js({}),
        } | values
        names = ", ".join(cols)
        marks = ", ".join("?" for _ in cols)
        return self._x(
            conn,
            f"INSERT INTO pointers (agent, target, alias, revision, created_at, updated_at, {names})"
            f" VALUES (?, ?, ?, 1, ?, ?, {marks}) RETURNING {_P_COLS}",
            (agent, target, alias, now, now, *cols.values()),
        ).fetchone()

    def delete_agent(self, agent: str, target: str) -> None:
        with self._tx() as conn:
            self._x(conn, "DELETE FROM pointers WHERE agent = ? AND target = ?", (agent, target))

    # --- API keys -------------------------------------------------------------------------
    def _key(self, row: Any) -> APIKeyRecord:
        return APIKeyRecord(
            key_id=row[0],
            agent=row[1],
            role=row[2],
            key_hash=row[3],
            created_at=dt_in(row[4]) or utcnow(),
            expires_at=dt_in(row[5]),
            revoked_at=dt_in(row[6]),
            last_used_at=dt_in(row[7]),
        )

    def put_key(self, key: APIKeyRecord) -> None:
        try:
            with self._tx() as conn:
                self._x(
                    conn,
                    f"INSERT INTO api_keys ({_K_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key.key_id,
                        key.agent,
                        key.role,
                        key.key_hash,
                        self._ts(key.created_at),
                        self._ts(key.expires_at),
                        self._ts(key.revoked_at),
                        self._ts(key.last_used_at),
                    ),
                )
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise StoreConflict(f"key {key.key_id}", "key id exists") from None
            raise

    def get_key(self, key_id: str) -> APIKeyRecord | None:
        with self._read() as conn:
            row = self._x(conn, f"SELECT {_K_COLS} FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return self._key(row) if row else None

    def list_keys(self, agent: str) -> list[APIKeyRecord]:
        with self._read() as conn:
            rows = self._x(
                conn, f"SELECT {_K_COLS} FROM api_keys WHERE agent = ? ORDER BY created_at, key_id", (agent,)
            ).fetchall()
        return [self._key(r) for r in rows]

    def revoke_key(self, key_id: str, at: datetime) -> None:
        with self._tx() as conn:
            cur = self._x(
                conn,
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (self._ts(at), key_id),
            )
            if (
                cur.rowcount == 0
                and self._x(conn, "SELECT 1 FROM api_keys WHERE key_id = ?", (key_id,)).fetchone() is None
            ):
                raise RecordNotFound(f"key {key_id}", "no such API key")

    def touch_keys(self, last_used: dict[str, datetime]) -> None:
        if not last_used:
            return
        with self._tx() as conn:
            for key_id, at in sorted(last_used.items()):
                self._x(
                    conn,
                    "UPDATE api_keys SET last_used_at = ? WHERE key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                    (self._ts(at), key_id, self._ts(at)),
                )

    # --- audit ----------------------------------------------------------------------------
    def append_audit(self, record: AuditRecord) -> None:
        with self._tx() as conn:
            self._x(
                conn,
                "INSERT INTO audit (actor, action, agent, target, details, at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.actor,
                    record.action,
                    record.agent,
                    record.target,
                    self._js(record.details),
                    self._ts(record.at),
                ),
            )

    def list_audit(self, agent: str | None = None, limit: int = 100) -> list[AuditRecord]:
        cols = "SELECT actor, action, agent, target, details, at FROM audit"
        with self._read() as conn:
            if agent is None:
                rows = self._x(conn, cols + " ORDER BY id DESC LIMIT ?", (max(limit, 0),)).fetchall()
            else:
                rows = self._x(
                    conn, cols + " WHERE agent = ? ORDER BY id DESC LIMIT ?", (agent, max(limit, 0))
                ).fetchall()
        return [
            AuditRecord(r[0], r[1], r[2], r[3], json_in(r[4]) or {}, dt_in(r[5]) or utcnow()) for r in rows
        ]

    # --- counters -------------------------------------------------------------------------
    def incr_counter(self, key: str, window_s: int, now: float | None = None) -> int:
        now = time.time() if now is None else now
        start = math.floor(now / window_s) * window_s
        with self._tx() as conn:
            if time.monotonic() - self._last_purge > _PURGE_EVERY_S:
                self._last_purge = time.monotonic()
                self._x(conn, "DELETE FROM counters WHERE expires_at <= ?", (now - COUNTER_GRACE_S,))
            row = self._x(
                conn,
                "INSERT INTO counters (key, n, expires_at) VALUES (?, 1, ?)"
                " ON CONFLICT (key) DO UPDATE SET n = counters.n + 1 RETURNING n",
                (f"{key}#{start}", float(start + window_s)),
            ).fetchone()
        return int(row[0])

    # --- secrets --------------------------------------------------------------------------
    def _write_secret(self, name: str, sealed: str) -> None:
        with self._tx() as conn:
            self._x(
                conn,
                "INSERT INTO secrets (name, sealed, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
                (name, sealed, self._ts(utcnow())),
            )

    def _read_secret(self, name: str) -> str | None:
        with self._read() as conn:
            row = self._x(conn, "SELECT sealed FROM secrets WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None
