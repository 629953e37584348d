"""Metadata store: pick a backend by URL, and who is acting (for the audit log).

=====================================  =====================================================
URL                                    backend
=====================================  =====================================================
``sqlite:///path/agentdock.db``        ``sqlite.SQLiteStore`` (default: AGENTDOCK_HOME or
                                       ``~/.agentdock``, file ``agentdock.db``)
``dynamodb://TABLE?region=&endpoint_url=``  ``dynamodb.DynamoDBStore`` (single table)
``postgresql://user@host/db[?schema=]``  ``postgres.PostgresStore`` (psycopg 3 pool)
``memory://`` / ``memory://NAME``      ``memory.MemoryStore`` (fresh / shared by name in-process)
=====================================  =====================================================

The URL comes from ``--store``, else env AGENTDOCK_STORE, else the SQLite default. Backends
are imported only when chosen (boto3 / psycopg stay out of the import path otherwise).
"""

from __future__ import annotations

import getpass
import os
import threading
from pathlib import Path

from agentdock.errors import StoreError, StoreNotInitialized
from agentdock.settings import ENV_ACTOR, ENV_HOME, ENV_STORE
from agentdock.store.base import (
    POINTER_FIELDS,
    AgentRecord,
    APIKeyRecord,
    AuditRecord,
    MetadataStore,
    Pointer,
    VersionRecord,
    redact_url,
    utcnow,
)

__all__ = [
    "POINTER_FIELDS",
    "AgentRecord",
    "APIKeyRecord",
    "AuditRecord",
    "MetadataStore",
    "Pointer",
    "VersionRecord",
    "actor",
    "agentdock_home",
    "default_store_url",
    "open_store",
    "redact_url",
    "resolve_store_url",
    "utcnow",
]

_named_memory: dict[str, MetadataStore] = {}
_named_lock = threading.Lock()


def agentdock_home() -> Path:
    """AGENTDOCK_HOME, else ``~/.agentdock``."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".agentdock").expanduser()


def default_store_url() -> str:
    return f"sqlite:///{agentdock_home() / 'agentdock.db'}"


def resolve_store_url(url: str | None = None) -> str:
    """The flag, else env AGENTDOCK_STORE, else the embedded SQLite default."""
    return url or os.environ.get(ENV_STORE) or default_store_url()


def open_store(url: str | None = None, *, auto_init: bool | None = None) -> MetadataStore:
    """Open the store named by ``url`` (see the module table).

    ``auto_init`` None means: create the schema on first use for the embedded backends (SQLite,
    memory), never for DynamoDB/Postgres, where creating a table or schema is a deliberate
    ``agentdock store init``; those raise errors.StoreNotInitialized with that fix instead.
    """
    url = resolve_store_url(url)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    store: MetadataStore
    if scheme == "memory":
        from agentdock.store.memory import MemoryStore

        name = url[len("memory://") :]
        if not name:
            return MemoryStore()
        with _named_lock:
            return _named_memory.setdefault(name, MemoryStore(url))
    if scheme == "sqlite":
        from agentdock.store.sqlite import SQLiteStore

        store = SQLiteStore(url)
        embedded = True
    elif scheme == "dynamodb":
        from agentdock.store.dynamodb import DynamoDBStore

        store = DynamoDBStore(url)
        embedded = False
    elif scheme in ("postgresql", "postgres"):
        from agentdock.store.postgres import PostgresStore

        store = PostgresStore(url)
        embedded = False
    else:
        raise StoreError(
            redact_url(url),
            f"unknown store URL scheme {scheme or url!r}",
            hint="use sqlite:///path, dynamodb://TABLE?region=..., postgresql://user@host/db or memory://",
        )
    if auto_init if auto_init is not None else embedded:
        try:
            store.get_key("_")  # cheap probe: raises when the schema is missing or old
        except StoreNotInitialized:
            store.init()
    return store


def actor(explicit: str | None = None) -> str:
    """Who is acting, for the audit log: ``--actor``, else env AGENTDOCK_ACTOR, else the OS user."""
    if explicit:
        return explicit
    if os.environ.get(ENV_ACTOR):
        return os.environ[ENV_ACTOR]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
