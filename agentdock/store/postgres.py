"""``postgresql://user:pass@host:5432/db[?schema=NAME]``: psycopg 3 with a connection pool.

Every operation is one transaction on a pooled connection (committed on success, rolled back on
error). Version numbers are allocated under ``SELECT ... FOR UPDATE`` on the agent row, so
concurrent allocations of one agent queue up and never collide; pointers move by
``UPDATE ... WHERE revision = expected``. The schema is versioned (``schema_version``; see
``migrations``); ``init`` applies what is missing under an advisory lock.

``schema=NAME`` (an agentdock-only query parameter, stripped before connecting) puts the tables
in their own Postgres schema: ``init`` creates it and every connection sets ``search_path`` to
it. Without it the connection's own ``search_path`` (usually ``public``) is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from agentdock.errors import StoreError, StoreNotInitialized
from agentdock.store import migrations
from agentdock.store.base import redact_url
from agentdock.store.sqlbase import SQLStore

POOL_MAX = 10
CONNECT_TIMEOUT_S = 10.0
_LOCK_ID = 0x61676E74646F636B  # "agntdock": serialises concurrent `store init`
_SCHEMA_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def split_schema(url: str) -> tuple[str, str | None]:
    """(libpq URL without our ``schema`` parameter, the schema or None)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
    if schema is not None and not _SCHEMA_RE.match(schema):
        raise StoreError(redact_url(url), f"invalid schema name {schema!r}", hint="use letters, digits and _")
    return urlunsplit((scheme, parts.netloc, parts.path, rest, parts.fragment)), schema


class PostgresStore(SQLStore):
    placeholder = "%s"

    def __init__(self, url: str, *, max_size: int = POOL_MAX) -> None:
        self.url = url
        conninfo, self.schema = split_schema(url)
        if self.schema:
            options = conninfo_to_dict(conninfo).get("options") or ""
            conninfo = make_conninfo(conninfo, options=f"{options} -c search_path={self.schema}".strip())
        self._conninfo = conninfo
        self._max_size = max_size
        self._pool: ConnectionPool | None = None
        self._checked = False

    # --- connections ----------------------------------------------------------------------
    def _fix(self) -> str:
        return f"run `agentdock store init --store {redact_url(self.url)}`"

    def _open_pool(self) -> ConnectionPool:
        if self._pool is None:
            try:  # one direct attempt first: the real cause (refused, no such database, auth) in seconds
                psycopg.connect(self._conninfo, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
            except psycopg.OperationalError as exc:
                cause = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
                raise StoreError(
                    redact_url(self.url),
                    f"cannot connect to PostgreSQL: {cause}",
                    hint="check host, port, user and database",
                ) from None
            pool = ConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._max_size,
                open=False,
                timeout=CONNECT_TIMEOUT_S,
                kwargs={"autocommit": False, "connect_timeout": int(CONNECT_TIMEOUT_S)},
                name="agentdock-store",
            )
            pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
            self._pool = pool
        return self._pool

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        try:
            with self._open_pool().connection() as conn:
                yield conn
        except psycopg.errors.UndefinedTable:
            raise StoreNotInitialized(
                redact_url(self.url), "the metadata tables do not exist", hint=self._fix()
            ) from None
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise StoreError(redact_url(self.url), f"PostgreSQL is unavailable: {exc}") from None

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._connection() as conn:
            if not self._checked:
                self._check_schema(conn)
            yield conn

    _read = _tx

    def _check_schema(self, conn: Any) -> None:
        version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
        if version < migrations.LATEST:
            raise StoreNotInitialized(
                redact_url(self.url),
                f"schema version {version} is older than {migrations.LATEST}",
                hint=self._fix(),
            )
        if version > migrations.LATEST:
            raise StoreError(
                redact_url(self.url),
                f"schema version {version} is newer than this agentdock knows",
                hint="upgrade agentdock",
            )
        self._checked = True

    def _lock_agent(self, conn: Any, agent: str) -> None:
        conn.execute("SELECT name FROM agents WHERE name = %s FOR UPDATE", (agent,))

    # --- dialect --------------------------------------------------------------------------
    def _ts(self, value: datetime | None) -> Any:
        return value.astimezone(UTC) if value is not None else None

    def _js(self, value: Any) -> Any:
        return Jsonb(value)

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.errors.UniqueViolation)

    # --- lifecycle ------------------------------------------------------------------------
    def init(self) -> None:
        with self._connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            if self.schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            migrations.apply(conn, migrations.POSTGRES, placeholder="%s", now=datetime.now(UTC).isoformat())
        self._checked = False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
