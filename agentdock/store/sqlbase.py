"""Agents, immutable versions and compare-and-set pointers in SQL (SQLite and Postgres).

Version numbers are allocated inside one write transaction that first serialises on the agent
(``_lock_agent``: SQLite's ``BEGIN IMMEDIATE`` already holds the write lock; Postgres locks the
agent row ``FOR UPDATE``), so concurrent allocations queue up and never collide. Compare-and-set
is ``UPDATE ... WHERE revision = ?`` (a row back, or a conflict); conditional creates are primary
keys (unique violation -> ``StoreConflict``). Version bodies are never updated; their status
lives in ``version_status``.
"""

from __future__ import annotations

from typing import Any

from agentdock.errors import RecordNotFound, StoreConflict
from agentdock.store.base import (
    AgentRecord,
    Pointer,
    VersionRecord,
    check_pointer_fields,
    check_status,
    utcnow,
)
from agentdock.store.sqlcore import SQLCore, dt_in, json_dumps, json_in

__all__ = ["SQLStore", "dt_in", "json_dumps", "json_in"]

_V_COLS = "v.agent, v.number, v.content_hash, v.target, v.image, v.spec, v.created_by, v.created_at, v.label, s.status"
_P_COLS = (
    "agent, target, alias, live_version, previous_version, revision, canary_version, canary_weight, "
    "status, url, updated_at, details, created_at"
)


class SQLStore(SQLCore):
    def _lock_agent(self, conn: Any, agent: str) -> None:  # noqa: B027 - SQLite's BEGIN IMMEDIATE already serialises
        """Serialise version allocation for one agent (Postgres: SELECT ... FOR UPDATE)."""

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
