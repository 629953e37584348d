"""The in-memory rate limiter: fixed windows, per principal, bounded, thread-safe."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sechelpers import make_spec

from agentdock.errors import AuthConfigError, RateLimited
from agentdock.security import InMemoryRateLimiter, build_rate_limiter
from agentdock.stages import Principal

pytestmark = pytest.mark.unit


def who(id_: str, role: str = "developer", kind: str = "jwt") -> Principal:
    return Principal(id=id_, role=role, permissions=frozenset(), kind=kind)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_fixed_window_counts_and_resets() -> None:
    clock = Clock(1_000_020.0)  # 20 s into a minute window (1_000_020 % 60 == 0 + 20)
    limiter = InMemoryRateLimiter({"developer": (3, 60)}, clock=clock)
    decisions = [await limiter.hit(who("u")) for _ in range(3)]
    assert [d.remaining for d in decisions if d] == [2, 1, 0]
    window_end = (1_000_020 // 60 + 1) * 60
    with pytest.raises(RateLimited) as info:
        await limiter.hit(who("u"))
    headers = info.value.headers
    assert info.value.code == 429
    assert headers["Retry-After"] == headers["X-RateLimit-Reset"] == str(int(window_end - clock.now))
    assert headers["X-RateLimit-Limit"] == "3" and headers["X-RateLimit-Remaining"] == "0"
    clock.now = window_end + 0.5
    decision = await limiter.hit(who("u"))
    assert decision is not None and decision.remaining == 2


async def test_counted_per_principal_and_role() -> None:
    limiter = InMemoryRateLimiter({"developer": (1, 3600)})
    await limiter.hit(who("a"))
    await limiter.hit(who("a", kind="api_key"))  # a key id never shares a JWT sub's counter
    await limiter.hit(who("b"))
    assert await limiter.hit(who("a", role="admin")) is None  # no limit for admin
    with pytest.raises(RateLimited):
        await limiter.hit(who("a"))


async def test_memory_is_bounded() -> None:
    limiter = InMemoryRateLimiter({"developer": (1, 3600)}, max_principals=3)
    for name in "abcde":
        await limiter.hit(who(name))
    assert len(limiter._counters) == 3
    assert await limiter.hit(who("a")) is not None  # evicted long ago: a fresh window


def test_no_update_is_lost_across_threads() -> None:
    limiter = InMemoryRateLimiter({"developer": (10_000, 3600)})

    def worker() -> None:
        for _ in range(250):
            asyncio.run(limiter.hit(who("shared")))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decision = asyncio.run(limiter.hit(who("shared")))
    assert decision is not None and decision.remaining == 10_000 - 2001


def test_build_rate_limiter_parses_the_dockfile() -> None:
    limiter = build_rate_limiter(
        make_spec(auth={"rate_limits": {"developer": "100 requests/minute", "viewer": "5/s"}})
    )
    assert isinstance(limiter, InMemoryRateLimiter)
    assert limiter.limits == {"developer": (100, 60), "viewer": (5, 1)}
    with pytest.raises(AuthConfigError) as info:
        build_rate_limiter(make_spec(auth={"rate_limits": {"viewer": "lots"}}))
    assert info.value.path == "auth.rate_limits.viewer"
