"""``sqlite:///path``: the embedded default store (``~/.agentdock/agentdock.db``).

Safe with several processes and threads: WAL journal (readers never block the writer), a busy
timeout (writers wait instead of failing), ``BEGIN IMMEDIATE`` for every write transaction (the
write lock is taken up front, so version allocation cannot interleave and a reader never has to
upgrade), one connection per thread.

URL forms: ``sqlite:///abs/path.db`` and ``sqlite:////abs/path.db`` both mean ``/abs/path.db``;
``sqlite:///~/x.db`` expands the home folder; ``sqlite://rel/x.db`` is relative to the working
folder. A missing database file is never created as a side effect: only ``init`` creates it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentdock.errors import StoreError, StoreNotInitialized
from agentdock.store import migrations
from agentdock.store.sqlbase import SQLStore, json_dumps

BUSY_TIMEOUT_MS = 15_000


def path_from_url(url: str) -> Path:
    rest = url[len("sqlite://") :].split("?", 1)[0]
    if not rest or rest == "/":
        raise StoreError(url, "the sqlite URL names no file", hint="use sqlite:///path/to/agentdock.db")
    if rest.startswith("/~"):
        return Path(rest[1:]).expanduser()
    if rest.startswith("//"):
        return Path(rest[1:])
    return Path(rest)


class SQLiteStore(SQLStore):
    placeholder = "?"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = path_from_url(url)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._checked = False

    # --- connections ----------------------------------------------------------------------
    def _open(self, create: bool) -> sqlite3.Connection:
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = "rwc" if create else "rw"
        try:
            conn = sqlite3.connect(
                f"file:{self.path}?mode={mode}",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
                check_same_thread=False,  # one connection per thread; close() may run elsewhere
            )
        except sqlite3.OperationalError:
            raise self._not_initialized("the database file does not exist") from None
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open(create=False)
            if not self._checked:
                try:
                    self._check_schema(conn)
                except BaseException:
                    conn.close()
                    raise
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _not_initialized(self, cause: str) -> StoreNotInitialized:
        return StoreNotInitialized(
            str(self.path), cause, hint=f"run `agentdock store init --store {self.url}`"
        )

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        try:
            version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
        except sqlite3.OperationalError:
            raise self._not_initialized("the metadata tables do not exist") from None
        if version < migrations.LATEST:
            raise self._not_initialized(f"schema version {version} is older than {migrations.LATEST}")
        if version > migrations.LATEST:
            raise StoreError(
                str(self.path),
                f"schema version {version} is newer than this agentdock knows",
                hint="upgrade agentdock",
            )
        self._checked = True

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[Any]:
        yield self._conn()

    # --- dialect --------------------------------------------------------------------------
    def _ts(self, value: datetime | None) -> Any:
        if value is None:
            return None
        # One fixed-width format so text comparison is time comparison.
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")

    def _js(self, value: Any) -> Any:
        return json_dumps(value)

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc).upper()

    # --- lifecycle ------------------------------------------------------------------------
    def init(self) -> None:
        conn = self._open(create=True)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                migrations.apply(conn, migrations.SQLITE, placeholder="?", now=self._ts(datetime.now(UTC)))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
        self._checked = False

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
