"""StoreKeyResolver (TTL cache, batched last-use) and StoreRateLimiter on a real SQLite store."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from agentdock.errors import NotReady, RateLimited, StoreError
from agentdock.stages import Principal
from agentdock.store import APIKeyRecord, MetadataStore, open_store
from agentdock.store.runtime import StoreKeyResolver, StoreRateLimiter

pytestmark = pytest.mark.integration


class Counting:
    """Wraps a store method to count calls (and optionally slow it down or fail it)."""

    def __init__(self, fn: Any, delay_s: float = 0.0, fail: bool = False) -> None:
        self.fn, self.delay_s, self.fail = fn, delay_s, fail
        self.calls: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()

    def __call__(self, *args: Any) -> Any:
        with self.lock:
            self.calls.append(args)
        time.sleep(self.delay_s)
        if self.fail:
            raise StoreError("test", "store down")
        return self.fn(*args)


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Any:
    s = open_store(sqlite_url)
    s.put_key(APIKeyRecord("aaaaaaaaaaaa", "demo", "viewer", "sha256:x", datetime.now(UTC)))
    yield s
    s.close()


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_revocation_is_visible_after_ttl(sqlite_store: MetadataStore) -> None:
    clock = Clock()
    resolver = StoreKeyResolver(sqlite_store, ttl_s=5.0, clock=clock)
    get_key = Counting(sqlite_store.get_key)
    sqlite_store.get_key = get_key  # type: ignore[method-assign]
    first = await resolver.resolve("aaaaaaaaaaaa")
    assert first is not None and first.role == "viewer" and first.revoked_at is None
    sqlite_store.revoke_key("aaaaaaaaaaaa", datetime.now(UTC))
    clock.t += 4.9
    cached = await resolver.resolve("aaaaaaaaaaaa")
    assert cached is not None and cached.revoked_at is None and len(get_key.calls) == 1
    clock.t += 0.2
    fresh = await resolver.resolve("aaaaaaaaaaaa")
    assert fresh is not None and fresh.revoked_at is not None and len(get_key.calls) == 2


async def test_unknown_keys_are_cached_briefly_and_lookups_coalesce(sqlite_store: MetadataStore) -> None:
    clock = Clock()
    resolver = StoreKeyResolver(sqlite_store, ttl_s=5.0, clock=clock)
    get_key = Counting(sqlite_store.get_key, delay_s=0.05)
    sqlite_store.get_key = get_key  # type: ignore[method-assign]
    results = await asyncio.gather(*(resolver.resolve("aaaaaaaaaaaa") for _ in range(20)))
    assert all(r is not None and r.key_id == "aaaaaaaaaaaa" for r in results)
    assert len(get_key.calls) == 1  # one store read for 20 concurrent requests
    assert await resolver.resolve("bbbbbbbbbbbb") is None
    assert await resolver.resolve("bbbbbbbbbbbb") is None
    assert len(get_key.calls) == 2
    clock.t += 1.01  # negative entries live min(ttl, 1 s)
    sqlite_store.put_key(APIKeyRecord("bbbbbbbbbbbb", "demo", "admin", "sha256:y", datetime.now(UTC)))
    assert (await resolver.resolve("bbbbbbbbbbbb")) is not None


async def test_lookups_do_not_block_the_event_loop(sqlite_store: MetadataStore) -> None:
    resolver = StoreKeyResolver(sqlite_store)
    sqlite_store.get_key = Counting(sqlite_store.get_key, delay_s=0.3)  # type: ignore[method-assign]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(10):
            await asyncio.sleep(0.01)
            ticks += 1

    await asyncio.gather(resolver.resolve("aaaaaaaaaaaa"), ticker())
    assert ticks == 10


async def test_store_failure_is_503_not_a_crash(sqlite_store: MetadataStore) -> None:
    resolver = StoreKeyResolver(sqlite_store)
    sqlite_store.get_key = Counting(sqlite_store.get_key, fail=True)  # type: ignore[method-assign]
    with pytest.raises(NotReady):
        await resolver.resolve("aaaaaaaaaaaa")


def test_note_use_batches_writes_off_the_request_path(sqlite_store: MetadataStore) -> None:
    touch = Counting(sqlite_store.touch_keys, delay_s=0.2)
    sqlite_store.touch_keys = touch  # type: ignore[method-assign]
    resolver = StoreKeyResolver(sqlite_store, flush_interval_s=0.3)
    started = time.perf_counter()
    deadline = started + 1.0
    uses = 0
    while time.perf_counter() < deadline:
        resolver.note_use("aaaaaaaaaaaa")
        uses += 1
        time.sleep(0.001)
    # Hundreds of uses, a handful of writes (at most one per interval), and none of them inline.
    assert uses > 200
    assert 1 <= len(touch.calls) <= 4
    resolver.close()
    last = sqlite_store.get_key("aaaaaaaaaaaa")
    assert last is not None and last.last_used_at is not None
    assert (datetime.now(UTC) - last.last_used_at).total_seconds() < 2
    assert all(set(batch[0]) == {"aaaaaaaaaaaa"} for batch in touch.calls)


def test_note_use_never_waits_for_a_slow_store(sqlite_store: MetadataStore) -> None:
    sqlite_store.touch_keys = Counting(sqlite_store.touch_keys, delay_s=0.5)  # type: ignore[method-assign]
    resolver = StoreKeyResolver(sqlite_store, flush_interval_s=0.0)
    resolver.note_use("aaaaaaaaaaaa")
    time.sleep(0.05)  # the flush is now running in its thread
    t0 = time.perf_counter()
    for _ in range(100):
        resolver.note_use("aaaaaaaaaaaa")
    assert time.perf_counter() - t0 < 0.1
    resolver.close()


def _principal(pid: str = "k1", role: str = "viewer") -> Principal:
    return Principal(id=pid, role=role, permissions=frozenset({"invoke"}), kind="api_key")


async def test_rate_limiter_counts_across_instances(sqlite_store: MetadataStore) -> None:
    clock = lambda: 1_700_000_050.0  # noqa: E731 - 10 s into a 60 s window
    a = StoreRateLimiter(sqlite_store, {"viewer": (3, 60)}, clock=clock)
    b = StoreRateLimiter(sqlite_store, {"viewer": (3, 60)}, clock=clock)
    decisions = [await a.hit(_principal()), await b.hit(_principal()), await a.hit(_principal())]
    assert [d.remaining for d in decisions if d] == [2, 1, 0]
    assert decisions[0] is not None and decisions[0].headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "2",
        "X-RateLimit-Reset": "50",
    }
    with pytest.raises(RateLimited) as info:
        await b.hit(_principal())
    assert info.value.status == 429
    assert info.value.headers == {
        "Retry-After": "50",
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "50",
    }
    assert (await a.hit(_principal("k2"))).remaining == 2  # type: ignore[union-attr]
    assert await a.hit(_principal("k1", role="admin")) is None  # no limit for the role


async def test_rate_limiter_fails_open_or_closed(sqlite_store: MetadataStore) -> None:
    sqlite_store.incr_counter = Counting(sqlite_store.incr_counter, fail=True)  # type: ignore[method-assign]
    assert await StoreRateLimiter(sqlite_store, {"viewer": (1, 60)}).hit(_principal()) is None
    with pytest.raises(NotReady):
        await StoreRateLimiter(sqlite_store, {"viewer": (1, 60)}, fail_open=False).hit(_principal())


async def test_the_shared_limiter_reserves_in_batches_and_never_over_admits() -> None:
    """Two instances, limit 1000/min: store calls drop ~10x, the total never exceeds the limit."""
    from agentdock.errors import RateLimited
    from agentdock.store.memory import MemoryStore

    store = MemoryStore()
    calls = 0
    incr = store.incr_counter

    def counting(*args: object, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        return incr(*args, **kwargs)  # type: ignore[arg-type]

    store.incr_counter = counting  # type: ignore[method-assign]
    limiters = [StoreRateLimiter(store, {"viewer": (1000, 60)}, clock=lambda: 120.0) for _ in range(2)]
    admitted = 0
    for i in range(1300):
        try:
            await limiters[i % 2].hit(_principal())
            admitted += 1
        except RateLimited:
            pass
    assert 1000 - 2 * StoreRateLimiter.batch_for(1000) <= admitted <= 1000
    assert calls < 1300 / 5


async def test_concurrent_requests_share_one_reservation_per_batch() -> None:
    """32 requests at once find the batch spent: one reservation in flight at a time serves them
    all (before: each reserved a batch of its own and overwrote the others', so 320 hits of a
    1000/min limit were counted for 32 requests and the limit refused early)."""
    from agentdock.store.memory import MemoryStore

    store = MemoryStore()
    store.incr_counter = Counting(store.incr_counter, delay_s=0.01)  # type: ignore[method-assign]
    limiter = StoreRateLimiter(store, {"viewer": (1000, 60)}, clock=lambda: 120.0)
    decisions = await asyncio.gather(*(limiter.hit(_principal()) for _ in range(32)))
    assert all(d is not None for d in decisions)
    batch = StoreRateLimiter.batch_for(1000)
    assert len(store.incr_counter.calls) == -(-32 // batch)  # type: ignore[attr-defined]
    counted = store.incr_counter.fn("rl:viewer:api_key:k1:60", 60, 120.0, 0)  # type: ignore[attr-defined]
    assert counted == len(store.incr_counter.calls) * batch  # type: ignore[attr-defined]
    remaining = sorted(d.remaining for d in decisions if d is not None)
    assert remaining == list(range(1000 - 32, 1000))  # every hit numbered once


async def test_concurrent_requests_share_a_failed_reservation(sqlite_store: MetadataStore) -> None:
    sqlite_store.incr_counter = Counting(  # type: ignore[method-assign]
        sqlite_store.incr_counter, delay_s=0.01, fail=True
    )
    open_limiter = StoreRateLimiter(sqlite_store, {"viewer": (1000, 60)})
    assert await asyncio.gather(*(open_limiter.hit(_principal()) for _ in range(8))) == [None] * 8
    assert len(sqlite_store.incr_counter.calls) == 1  # type: ignore[attr-defined]
    closed = StoreRateLimiter(sqlite_store, {"viewer": (1000, 60)}, fail_open=False)
    results = await asyncio.gather(*(closed.hit(_principal()) for _ in range(8)), return_exceptions=True)
    assert all(isinstance(r, NotReady) for r in results)
    assert len(sqlite_store.incr_counter.calls) == 2  # type: ignore[attr-defined]


async def test_a_cancelled_reservation_lets_the_waiting_requests_reserve() -> None:
    from agentdock.store.memory import MemoryStore

    store = MemoryStore()
    store.incr_counter = Counting(store.incr_counter, delay_s=0.05)  # type: ignore[method-assign]
    limiter = StoreRateLimiter(store, {"viewer": (1000, 60)}, clock=lambda: 120.0)
    first = asyncio.ensure_future(limiter.hit(_principal()))
    await asyncio.sleep(0.01)  # the first request is reserving
    waiting = asyncio.ensure_future(limiter.hit(_principal()))
    await asyncio.sleep(0.01)
    first.cancel()  # e.g. its client went away
    decision = await asyncio.wait_for(waiting, 5)
    assert decision is not None and first.cancelled()
    assert limiter._reserving == {}
