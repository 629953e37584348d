"""API keys and rate limits through a real store (SQLite file): what a deployed function does."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from sechelpers import make_key, make_spec
from starlette.requests import HTTPConnection

from agentdock.errors import AuthenticationError, KeyRevoked, RateLimited
from agentdock.security import build_authenticator, build_rate_limiter
from agentdock.security.keys import ChainKeyResolver
from agentdock.settings import ENV_BOOTSTRAP_KEY_HASH, ENV_STORE
from agentdock.stages import Principal
from agentdock.store import open_store
from agentdock.store.runtime import StoreKeyResolver, StoreRateLimiter

pytestmark = pytest.mark.integration


def conn(key: str) -> HTTPConnection:
    return HTTPConnection({"type": "http", "headers": [(b"x-api-key", key.encode())]})


async def test_store_from_the_environment_with_the_bootstrap_key(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored, boot = make_key("developer"), make_key("admin")
    store = open_store(sqlite_url)
    store.put_key(stored.record)
    monkeypatch.setenv(ENV_STORE, sqlite_url)
    monkeypatch.setenv(ENV_BOOTSTRAP_KEY_HASH, f"{boot.new.key_id}:admin:{boot.new.key_hash}")
    auth = build_authenticator(make_spec())
    assert isinstance(auth.keys, ChainKeyResolver)
    assert (await auth.authenticate(conn(stored.new.key))).role == "developer"
    assert (await auth.authenticate(conn(boot.new.key))).role == "admin"
    with pytest.raises(AuthenticationError):
        await auth.authenticate(conn(make_key("admin").new.key))


async def test_revocation_is_seen_within_the_cache_ttl(sqlite_url: str) -> None:
    key = make_key("developer")
    store = open_store(sqlite_url)
    store.put_key(key.record)
    resolver = StoreKeyResolver(store, ttl_s=0.3)
    auth = build_authenticator(make_spec(), key_resolver=resolver)
    assert (await auth.authenticate(conn(key.new.key))).id == key.new.key_id
    store.revoke_key(key.new.key_id, datetime.now(UTC))
    revoked_at = time.monotonic()
    while True:
        try:
            await auth.authenticate(conn(key.new.key))
        except KeyRevoked:
            break
        await asyncio.sleep(0.02)
    assert time.monotonic() - revoked_at <= 0.3 + 0.1
    resolver.close()
    assert store.get_key(key.new.key_id).last_used_at is not None  # use was recorded, batched


async def test_store_backed_rate_limit(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    limiter = build_rate_limiter(make_spec(auth={"rate_limits": {"developer": "2/h"}}), store=store)
    assert isinstance(limiter, StoreRateLimiter)
    caller = Principal(id="k1", role="developer", permissions=frozenset(), kind="api_key")
    await limiter.hit(caller)
    await limiter.hit(caller)
    with pytest.raises(RateLimited):
        await limiter.hit(caller)
