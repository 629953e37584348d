"""The store as the running function sees it: API key lookups and rate-limit counters.

* ``StoreKeyResolver`` implements ``agentdock.security.keys.KeyResolver``: key records behind a
  TTL cache (a revocation is visible within ``ttl_s``), store calls off the event loop in a
  worker thread, one lookup in flight per key id, and ``last_used_at`` batched: ``note_use`` only
  records in memory; a timer thread flushes the batch with one ``store.touch_keys`` at most
  every ``flush_interval_s`` (never a write per request).
* ``StoreRateLimiter`` implements ``agentdock.stages.RateLimiter`` with the store's
  atomic window counters, so a limit holds across every instance of a function. Counters are
  keyed by role, principal kind and id, and window length; windows are the same epoch-aligned
  fixed windows as ``agentdock.security.ratelimit.InMemoryRateLimiter``. Local fast path:
  an instance reserves hits in batches (one atomic ``incr_counter(amount=batch)`` per batch, batch
  = 1% of the limit, 1 to 50) and spends them from memory; it only ever admits hits whose global
  number is within the limit, so the instances together never exceed it (unspent reservations can
  make it refuse slightly early: at most one batch per instance per window). One reservation per
  counter is in flight at a time: concurrent requests that find the batch spent wait for it
  rather than each reserving (and overwriting) a batch of their own. A principal already over is
  refused from memory until the window ends; roles without a limit never touch the store.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from agentdock.errors import NotReady, RateLimited, StoreError
from agentdock.stages import Principal, RateDecision
from agentdock.store.base import APIKeyRecord, MetadataStore

logger = logging.getLogger("agentdock.store")


class StoreKeyResolver:
    def __init__(
        self,
        store: MetadataStore,
        ttl_s: float = 5.0,
        *,
        flush_interval_s: float = 30.0,
        negative_ttl_s: float | None = None,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        # Unknown ids are cached briefly: garbage ids cannot hammer the store, a new key works soon.
        self.negative_ttl_s = min(ttl_s, 1.0) if negative_ttl_s is None else negative_ttl_s
        self.flush_interval_s = flush_interval_s
        self.max_entries = max_entries
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, APIKeyRecord | None]] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[APIKeyRecord | None]] = {}
        self._pending: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last_flush = float("-inf")
        self._ready = False
        self._ready_until = float("-inf")

    # --- lookups --------------------------------------------------------------------------
    async def resolve(self, key_id: str) -> APIKeyRecord | None:
        now = self._clock()
        hit = self._cache.get(key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        task = self._inflight.get(key_id)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(self._fetch(key_id))
            self._inflight[key_id] = task
        return await asyncio.shield(task)

    async def _fetch(self, key_id: str) -> APIKeyRecord | None:
        try:
            record = await asyncio.to_thread(self.store.get_key, key_id)
        except StoreError as exc:
            self._inflight.pop(key_id, None)
            logger.error("API key lookup failed: %s", exc)
            raise NotReady("the API key store is unavailable", path="auth.api_keys") from None
        ttl = self.ttl_s if record is not None else self.negative_ttl_s
        self._cache[key_id] = (self._clock() + ttl, record)
        self._cache.move_to_end(key_id)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        self._inflight.pop(key_id, None)
        return record

    async def ready(self) -> bool:
        """Can the store answer? One cheap lookup, at most every ``ttl_s``: /ready must not say
        ready while every new key would get 503, nor hammer the store when probed often."""
        now = self._clock()
        if now < self._ready_until:
            return self._ready
        try:
            await asyncio.to_thread(self.store.get_key, "agd-ready-probe")
            self._ready = True
        except Exception as exc:  # any failure to answer means "not ready"
            logger.warning("API key store not ready: %s", type(exc).__name__)
            self._ready = False
        self._ready_until = now + self.ttl_s
        return self._ready

    def invalidate(self, key_id: str | None = None) -> None:
        """Forget one cached record (or all), e.g. right after a local revoke."""
        if key_id is None:
            self._cache.clear()
        else:
            self._cache.pop(key_id, None)

    # --- last use, batched ------------------------------------------------------------------
    def note_use(self, key_id: str) -> None:
        """Record use in memory; schedule one background flush if none is scheduled. Never blocks."""
        with self._lock:
            self._pending[key_id] = datetime.now(UTC)
            if self._timer is None:
                delay = max(0.0, self._last_flush + self.flush_interval_s - time.monotonic())
                self._timer = threading.Timer(delay, self._flush_from_timer)
                self._timer.daemon = True
                self._timer.start()

    def _flush_from_timer(self) -> None:
        with self._lock:
            self._timer = None
        self.flush()

    def flush(self) -> int:
        """Write the pending batch now (one ``touch_keys`` call); returns how many keys it held.
        A failed write is logged and the batch kept for the next flush."""
        with self._lock:
            batch, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
        if not batch:
            return 0
        try:
            self.store.touch_keys(batch)
        except Exception as exc:  # never let bookkeeping break serving
            logger.warning("could not record API key use (%d keys): %s", len(batch), exc)
            with self._lock:
                for key_id, at in batch.items():
                    if key_id not in self._pending:
                        self._pending[key_id] = at
        return len(batch)

    def close(self) -> None:
        """Cancel the timer and flush what is pending (call at shutdown)."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self.flush()


class StoreRateLimiter:
    def __init__(
        self,
        store: MetadataStore,
        limits: dict[str, tuple[int, int]],
        *,
        fail_open: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.limits = dict(limits)  # role -> (allowed requests, window seconds)
        # When the store cannot count, serve (and log) rather than fail every request.
        self.fail_open = fail_open
        self._clock = clock
        self._over: dict[str, int] = {}  # counter key -> window in which the store said "over"
        # counter key -> [window, hits left in this instance's reservation, global number of its last hit]
        self._leases: dict[str, list[int]] = {}
        # counter key -> the reservation in flight (its outcome: None, or the error to raise)
        self._reserving: dict[str, asyncio.Future[StoreError | None]] = {}

    @staticmethod
    def batch_for(allowed: int) -> int:
        return max(1, min(50, allowed // 100))

    async def hit(self, principal: Principal) -> RateDecision | None:
        limit = self.limits.get(principal.role)
        if limit is None:
            return None
        allowed, window_s = limit
        now = self._clock()
        key = f"rl:{principal.role}:{principal.kind}:{principal.id}:{window_s}"
        window = int(now // window_s)
        reset_s = max(1, math.ceil((window + 1) * window_s - now))
        while True:
            if self._over.get(key) == window:  # the fast path: still over, no store round trip
                raise self._limited(principal, allowed, window_s, RateDecision(allowed, 0, reset_s))
            lease = self._leases.get(key)
            if lease is not None and lease[0] == window and lease[1] > 0:  # a reserved hit, no store call
                lease[1] -= 1
                return RateDecision(
                    limit=allowed, remaining=max(0, allowed - (lease[2] - lease[1])), reset_s=reset_s
                )
            pending = self._reserving.get(key)
            if pending is None:
                break
            # Another request is reserving a batch for this counter: spend from it (or share its
            # failure) rather than reserve one more batch that would overwrite this one.
            failure = await asyncio.shield(pending)
            if failure is not None:
                return self._store_failed(failure)
        reserving: asyncio.Future[StoreError | None] = asyncio.get_running_loop().create_future()
        self._reserving[key] = reserving
        try:
            decision = await self._reserve(principal, key, allowed, window_s, window, now, reset_s)
        except StoreError as exc:
            reserving.set_result(exc)
            return self._store_failed(exc)
        except BaseException:  # over the limit (waiters see it in _over), or cancelled (they retry)
            reserving.set_result(None)
            raise
        finally:
            del self._reserving[key]
        reserving.set_result(None)
        return decision

    def _store_failed(self, exc: StoreError) -> RateDecision | None:
        if not self.fail_open:
            raise NotReady("the rate-limit store is unavailable", path="auth.rate_limits") from None
        logger.warning("rate limit not counted (store unavailable): %s", exc)
        return None

    async def _reserve(
        self,
        principal: Principal,
        key: str,
        allowed: int,
        window_s: int,
        window: int,
        now: float,
        reset_s: int,
    ) -> RateDecision:
        """One ``incr_counter`` for a batch: this request's hit plus the rest, kept as the lease."""
        batch = self.batch_for(allowed)
        count = await asyncio.to_thread(self.store.incr_counter, key, window_s, now, batch)
        first = count - batch + 1  # the global number of the first hit reserved
        granted = max(0, min(batch, allowed - first + 1))
        if granted > 1:
            if len(self._leases) > 100_000:
                self._leases.clear()
            self._leases[key] = [window, granted - 1, first + granted - 1]
        decision = RateDecision(limit=allowed, remaining=max(0, allowed - first), reset_s=reset_s)
        if granted == 0:
            if len(self._over) > 100_000:  # bounded: stale windows are dropped wholesale
                self._over.clear()
            self._over[key] = window
            raise self._limited(principal, allowed, window_s, decision)
        return decision

    @staticmethod
    def _limited(principal: Principal, allowed: int, window_s: int, decision: RateDecision) -> RateLimited:
        return RateLimited(
            f"rate limit of {allowed} per {window_s}s exceeded for role '{principal.role}'",
            path="auth.rate_limits",
            headers={"Retry-After": str(decision.reset_s), **decision.headers()},
        )
