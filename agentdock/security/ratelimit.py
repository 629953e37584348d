"""Rate limits per role (``auth.rate_limits``), counted per principal.

Fixed windows aligned to the epoch (``floor(now / window_s)``), the same windows the
store-backed ``StoreRateLimiter`` counts in, so a limit means the same thing in one process
and across many. A fixed window can admit up to twice the limit around a window edge; in
exchange it needs one counter per principal and gives exact ``X-RateLimit-Reset`` values.

Over the limit: 429 ``RateLimited`` with ``Retry-After`` (seconds to the next window) and
``X-RateLimit-Limit/Remaining/Reset``. Principals are counted by ``kind:id`` (a key id and a
JWT ``sub`` never share a counter). Memory is bounded: at most ``max_principals`` counters,
the least recently seen dropped first (an evicted principal starts a fresh window).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from agentdock.errors import RateLimited
from agentdock.stages import Principal, RateDecision


class InMemoryRateLimiter:
    """Implements ``runtime.stages.RateLimiter`` for one process (thread- and async-safe: the
    critical section has no await and holds a lock for a few dict operations)."""

    def __init__(
        self,
        limits: dict[str, tuple[int, int]],
        *,
        max_principals: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = dict(limits)
        self.max_principals = max_principals
        self._clock = clock
        self._counters: OrderedDict[str, tuple[int, int]] = OrderedDict()  # key -> (window, count)
        self._lock = threading.Lock()

    async def hit(self, principal: Principal) -> RateDecision | None:
        limit = self.limits.get(principal.role)
        if limit is None:
            return None
        allowed, window_s = limit
        now = self._clock()
        window = int(now // window_s)
        key = f"{principal.kind}:{principal.id}"
        with self._lock:
            current = self._counters.get(key)
            count = current[1] + 1 if current is not None and current[0] == window else 1
            self._counters[key] = (window, count)
            self._counters.move_to_end(key)
            if len(self._counters) > self.max_principals:
                self._counters.popitem(last=False)
        reset_s = max(1, math.ceil((window + 1) * window_s - now))
        decision = RateDecision(limit=allowed, remaining=max(0, allowed - count), reset_s=reset_s)
        if count > allowed:
            raise RateLimited(
                f"rate limit of {allowed} per {window_s}s exceeded for role '{principal.role}'",
                path="auth.rate_limits",
                headers={"Retry-After": str(reset_s), **decision.headers()},
            )
        return decision
