"""LangGraph checkpointers on the metadata store's backend: thread state for ``/threads``.

================================  ==============================================================
URL                               saver
================================  ==============================================================
``memory://``                     ``InMemorySaver`` (this process only; lost on restart)
``sqlite:///path/agentdock.db``   ``AsyncSqliteSaver`` (``langgraph-checkpoint-sqlite``), same file
``postgresql://...[?schema=]``    ``AsyncPostgresSaver`` (``langgraph-checkpoint-postgres``) on a
                                  psycopg pool; ``schema=`` becomes the connection's search_path
``dynamodb://TABLE[?region=&``    ``AsyncDynamoDBSaver`` (``store/dynamo_checkpoint``): the metadata
``endpoint_url=]``                table itself, items under ``THREAD#`` (no new table, boto3 only)
================================  ==============================================================

``checkpointer_url(...)`` resolves which one a Dockfile asks for (``state.checkpointer`` and
``state.url``, else the store URL of env ``AGENTDOCK_STORE``, else ``deploy.store``);
``open_checkpointer(url)`` opens it for the app's lifetime (SQL tables are created on first open:
the savers' own idempotent ``setup()``; the DynamoDB table is the store's, made by ``store init``). Savers are imported only when chosen.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from agentdock.errors import StoreError
from agentdock.settings import ENV_STORE
from agentdock.store.base import redact_url

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

SCHEMES = ("memory", "sqlite", "postgresql", "postgres", "dynamodb")


def checkpointer_url(checkpointer: str, url: str | None, deploy_store: str | None) -> str | None:
    """The URL for the Dockfile's ``state.checkpointer`` / ``state.url`` / ``deploy.store``, or
    None when threads are off."""
    if checkpointer == "none":
        return None
    if checkpointer == "memory":
        return "memory://"
    if url:
        return url
    return os.environ.get(ENV_STORE) or deploy_store or "memory://"


def check_url(url: str, path: str = "state.checkpointer") -> str:
    """The URL's scheme if a saver covers it; raises StoreError otherwise."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise StoreError(
            path,
            f"unknown checkpointer URL scheme in {redact_url(url)!r}",
            hint="use memory://, sqlite:///path, postgresql://user@host/db or dynamodb://TABLE?region=...",
        )
    if scheme == "dynamodb":
        from agentdock.store.dynamodb import parse_url

        parse_url(url)  # the table name, early (StoreError with the fix)
    return scheme


# The module each saver needs, and the extra that installs it (image builds add it themselves).
SAVER_MODULES = {
    "sqlite": ("langgraph.checkpoint.sqlite.aio", "threads-sqlite"),
    "postgresql": ("langgraph.checkpoint.postgres.aio", "postgres"),
    "postgres": ("langgraph.checkpoint.postgres.aio", "postgres"),
    "dynamodb": ("boto3", "aws-runtime"),
}


def need_saver(scheme: str, url: str) -> None:
    """Raise StoreError with the install fix when the saver for ``scheme`` cannot be imported."""
    if scheme not in SAVER_MODULES:
        return
    module, extra = SAVER_MODULES[scheme]
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise StoreError(
            "state.checkpointer",
            f"threads on {redact_url(url)!r} need {module.removesuffix('.aio')}, which is not installed ({exc})",
            hint=f"pip install 'agentdock[{extra}]' (or state: {{checkpointer: memory}})",
        ) from exc


@asynccontextmanager
async def open_checkpointer(url: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """A ready saver for ``url``, closed on exit (StoreError naming the extra when its saver is
    not installed)."""
    scheme = check_url(url)
    need_saver(scheme, url)
    if scheme == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        yield InMemorySaver()
        return
    if scheme == "sqlite":
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else url[len("sqlite://") :]
        async with AsyncSqliteSaver.from_conn_string(path or ":memory:") as saver:
            await saver.setup()
            yield saver
        return
    if scheme == "dynamodb":
        async with _dynamodb_saver(url) as saver:
            yield saver
        return
    async with _postgres_saver(url) as saver:
        yield saver


@asynccontextmanager
async def _dynamodb_saver(url: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The saver on the metadata table; the table must exist (``agentdock store init``): the first
    call checks its schema marker, as the metadata store does, and names the fix if it is absent."""
    import asyncio

    from agentdock.store.dynamo_checkpoint import AsyncDynamoDBSaver
    from agentdock.store.dynamo_items import DynamoIO
    from agentdock.store.dynamodb import parse_url

    table, region, endpoint = parse_url(url)
    io = DynamoIO(table, url, client=None, region=region, endpoint_url=endpoint)
    try:
        await asyncio.to_thread(io.ensure_ready)  # fail at start-up, not on the first thread call
        yield AsyncDynamoDBSaver(io)
    finally:
        io.close()


@asynccontextmanager
async def _postgres_saver(url: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    from agentdock.store.postgres import split_schema

    conninfo, schema = split_schema(url)
    if schema:
        options = conninfo_to_dict(conninfo).get("options") or ""
        conninfo = make_conninfo(conninfo, options=f"{options} -c search_path={schema}".strip())
    # The saver's documented connection settings: autocommit, no server-side prepares (poolers).
    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    async with AsyncConnectionPool(conninfo, kwargs=kwargs, min_size=1, max_size=4, open=False) as pool:
        saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
        await saver.setup()
        yield saver
