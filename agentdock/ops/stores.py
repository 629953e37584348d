"""Which metadata store a command works against (the same rule for the CLI, CDK and dashboard)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agentdock.settings import ENV_STORE
from agentdock.targets_catalog import DEFAULT_STORES

if TYPE_CHECKING:
    from agentdock.spec.models import DockSpec
    from agentdock.store.base import MetadataStore


def store_url_for(url: str | None, spec: DockSpec | None = None, target: str = "local") -> str:
    """The URL ``store_for`` opens, without opening it: what a deploy hands a cloud target as its
    own store (a build for that target renders the drivers of the one its function will read)."""
    from agentdock.store import resolve_store_url

    if url is None and spec is not None and target != "local" and spec.deploy and spec.deploy.store:
        url = spec.deploy.store
    if url is None and not os.environ.get(ENV_STORE) and target in DEFAULT_STORES:
        return DEFAULT_STORES[target]
    return resolve_store_url(url)


def store_for(
    url: str | None,
    spec: DockSpec | None = None,
    target: str = "local",
    *,
    create: bool = False,
    plan_only: bool = False,
) -> MetadataStore:
    """--store, else (cloud targets) the Dockfile's deploy.store, else env AGENTDOCK_STORE, else the
    target's default (``targets_catalog``): DynamoDB for Lambda (created on deploy when ``create``;
    a dry run before the first deploy plans against an empty store), SQLite otherwise. The local
    target ignores deploy.store: it must work offline."""
    from agentdock.errors import StoreNotInitialized
    from agentdock.store import open_store

    if url is None and spec is not None and target != "local" and spec.deploy and spec.deploy.store:
        url = spec.deploy.store
    if url is None and not os.environ.get(ENV_STORE) and target in DEFAULT_STORES:
        store = open_store(DEFAULT_STORES[target], auto_init=True if create else None)
        if plan_only:
            try:
                store.get_key("_")  # cheap probe: is the table there yet?
            except StoreNotInitialized:
                return open_store("memory://")
        return store
    return open_store(url)


def agent_store(agent: str, url: str | None = None, *, create: bool = False) -> MetadataStore:
    """The store ``agent``'s keys, versions and audit live in: ``url``, else the one its last
    deploy remembered, else its target's default (so ``keys create`` after a Lambda deploy
    writes to the DynamoDB table the function reads, not to a local file)."""
    from agentdock.ops.remembered import where

    w = where(agent, store=url)
    return store_for(w.store, target=w.target, create=create)


def agent_store_url(agent: str, url: str | None = None) -> str:
    """The URL ``agent_store`` opens (``agentdock serve`` hands it to the runtime)."""
    from agentdock.ops.remembered import where
    from agentdock.store import resolve_store_url

    w = where(agent, store=url)
    if w.store is None and not os.environ.get(ENV_STORE) and w.target in DEFAULT_STORES:
        return DEFAULT_STORES[w.target]
    return resolve_store_url(w.store)
