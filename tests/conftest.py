"""Root fixtures shared by every test area ([STORE] owns this file).

* ``moto_server`` (session): a real moto ``ThreadedMotoServer`` on 127.0.0.1 and a free port;
  yields its endpoint URL (``http://127.0.0.1:PORT``). boto3 talks to it over HTTP. DynamoDB
  requests are applied one at a time, as DynamoDB applies each request atomically: moto's backend
  takes no lock, so two concurrent conditional writes or ``ADD`` updates could otherwise
  interleave inside moto and make correct client code look racy. Other services run as moto
  runs them.
* ``postgres_url`` (session): a PostgreSQL URL whose ``search_path`` is a schema unique to this
  test run (created here, dropped at the end), so parallel runs never collide. Skips with a clear
  reason only when no server answers.
* ``postgres_store_url`` (function): an initialised Postgres store in a schema of its own (dropped
  afterwards), for a deploy whose own store is Postgres.
* ``sqlite_url`` (function): ``sqlite:///`` URL of a fresh database file under ``tmp_path``.

Fake AWS credentials and a region are put into ``os.environ`` with ``setdefault`` once for the
whole session, so no test can reach a real AWS account by accident and every boto3 client finds
a region.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

# Overridable for CI machines whose Postgres lives elsewhere.
POSTGRES_BASE_URL = os.environ.get("AGENTDOCK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session", autouse=True)
def _fake_aws_env() -> Iterator[None]:
    """Fake AWS credentials + region for the whole session (setdefault: never overrides a CI's)."""
    for name, value in _FAKE_AWS_ENV.items():
        os.environ.setdefault(name, value)
    yield


class _AtomicDynamoDB:
    """WSGI wrapper: each DynamoDB request (``X-Amz-Target: DynamoDB_...``) runs under one lock."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            return list(self.app(environ, start_response))


def _atomic_moto_server() -> Any:
    from moto.moto_server import threaded_moto_server as tms
    from werkzeug.serving import make_server

    class AtomicMotoServer(tms.ThreadedMotoServer):
        def _server_entry(self) -> None:  # as moto's, plus the lock
            app = _AtomicDynamoDB(tms.DomainDispatcherApplication(tms.create_backend_app))
            handler = getattr(tms, "MotoRequestHandler", None)  # moto >= 5.2.3
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=handler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return AtomicMotoServer(ip_address="127.0.0.1", port=0, verbose=False)


@pytest.fixture(scope="session")
def moto_server(_fake_aws_env: None) -> Iterator[str]:
    """A moto server on 127.0.0.1 (port 0: the OS picks a free one); yields the endpoint URL."""
    server = _atomic_moto_server()
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _with_search_path(base_url: str, schema: str) -> str:
    """Append libpq ``options=-csearch_path=<schema>`` so every connection lands in ``schema``."""
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options={quote(f'-csearch_path={schema}', safe='')}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the test Postgres, scoped to a schema unique to this run; dropped afterwards."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.skip("psycopg is not installed (pip install 'agentdock[postgres]')")
    schema = f"agentdock_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_BASE_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {POSTGRES_BASE_URL} ({exc.__class__.__name__}: {exc})")
    try:
        yield _with_search_path(POSTGRES_BASE_URL, schema)
    finally:
        with psycopg.connect(POSTGRES_BASE_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgres_store_url(postgres_url: str) -> Iterator[str]:
    """A fresh, initialised Postgres store URL (schema ``t_<random>``, dropped afterwards)."""
    import psycopg

    from agentdock.store import open_store
    from agentdock.store.postgres import split_schema

    url = f"{postgres_url}&schema=t_{uuid.uuid4().hex[:12]}"
    with open_store(url) as meta:
        meta.init()
    try:
        yield url
    finally:
        base, schema = split_schema(url)
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite store URL in ``tmp_path`` (``sqlite:///`` + absolute path)."""
    return f"sqlite:///{tmp_path / 'agentdock.db'}"
