"""The SQL plumbing shared by SQLite and Postgres: dialect hooks, value conversion, and the
simple records (API keys, audit, counters, secrets). ``sqlbase.SQLStore`` adds agents, versions
and pointers on top.

Subclasses supply connections (``_tx`` a write transaction, ``_read`` a read), the dialect's
value conversions (``_ts``, ``_js``) and error classification. SQL here is written with ``?``
placeholders; ``_q`` turns them into the dialect's.
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
from agentdock.store.base import COUNTER_GRACE_S, APIKeyRecord, AuditRecord, MetadataStore, utcnow

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


class SQLCore(MetadataStore):
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

    def _q(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _x(self, conn: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return conn.execute(self._q(sql), params)

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
    def incr_counter(self, key: str, window_s: int, now: float | None = None, amount: int = 1) -> int:
        now = time.time() if now is None else now
        start = math.floor(now / window_s) * window_s
        with self._tx() as conn:
            if time.monotonic() - self._last_purge > _PURGE_EVERY_S:
                self._last_purge = time.monotonic()
                self._x(conn, "DELETE FROM counters WHERE expires_at <= ?", (now - COUNTER_GRACE_S,))
            row = self._x(
                conn,
                "INSERT INTO counters (key, n, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET n = counters.n + excluded.n RETURNING n",
                (f"{key}#{start}", int(amount), float(start + window_s)),
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
