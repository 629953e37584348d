"""Event logs of runs in this process: replay after ``Last-Event-ID``, then follow live.

A run appends each SSE message to its log. A client that reconnects gets the messages after
the id it last saw and then the live ones, with heartbeat comments while the run is quiet.
The LangGraph routes (``langgraph_api/registry.py``) and ``/stream`` (``streaming.py``) share it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from starlette.types import Receive, Scope, Send


class LogTrimmed(Exception):
    """The messages after the requested id were dropped to keep the log under its size cap."""


class EventLog:
    """SSE messages of one run, ids 1..n. With ``max_bytes``, the oldest messages are dropped
    once the log outgrows it (``base`` counts them): following from the tail keeps working,
    replaying from before ``base`` raises ``LogTrimmed``."""

    __slots__ = ("_size", "_wake", "base", "done", "events", "max_bytes")

    def __init__(self, max_bytes: int | None = None) -> None:
        self.events: list[bytes] = []
        self.base = 0
        self.max_bytes = max_bytes
        self.done = asyncio.Event()
        self._wake: asyncio.Event | None = None  # made by a follower that waits, set by the next push
        self._size = 0

    @property
    def last_id(self) -> int:
        return self.base + len(self.events)

    @property
    def size(self) -> int:
        """Bytes held (counted only with ``max_bytes``)."""
        return self._size

    def push(self, message: bytes) -> None:
        self.events.append(message)
        if self.max_bytes is not None:
            self._size += len(message)
            if self._size > self.max_bytes:
                self._trim(self.max_bytes * 3 // 4)  # in batches: amortised O(1) per push
        self._notify()

    def _trim(self, keep: int) -> None:
        drop = 0
        while self._size > keep and drop < len(self.events) - 1:
            self._size -= len(self.events[drop])
            drop += 1
        del self.events[:drop]
        self.base += drop

    def close(self) -> None:
        self.done.set()
        self._notify()

    def _notify(self) -> None:
        wake, self._wake = self._wake, None
        if wake is not None:
            wake.set()

    async def follow(self, after: int = 0, idle_s: float | None = None) -> AsyncIterator[bytes | None]:
        """The messages after id ``after``, then live ones until the run ends; ``None`` after
        every ``idle_s`` without one (the caller's cue for a heartbeat)."""
        seq = max(0, after)
        while True:
            if seq < self.base:
                raise LogTrimmed(f"messages {seq + 1}..{self.base} are no longer kept")
            while seq < self.last_id:
                seq += 1
                yield self.events[seq - 1 - self.base]
            if self.done.is_set():
                return
            if self._wake is None:
                self._wake = asyncio.Event()
            wake = self._wake
            try:
                async with asyncio.timeout(idle_s):
                    await wake.wait()
            except TimeoutError:
                yield None


@dataclass
class LogStream:
    """An ASGI ``text/event-stream`` response that follows ``log`` from ``after``.

    ``on_disconnect`` runs when the client goes away before the run ends, ``on_close`` when the
    response finishes either way (both optional)."""

    log: EventLog
    after: int
    heartbeat_s: float
    heartbeat: bytes
    headers: list[tuple[bytes, bytes]]
    on_disconnect: Callable[[], None] | None = None
    on_close: Callable[[], None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        pump = asyncio.create_task(self._pump(send))
        watch = asyncio.create_task(disconnected(receive))
        try:
            done, _ = await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
            if watch in done:
                if self.on_disconnect is not None and not self.log.done.is_set():
                    self.on_disconnect()
                return
            with contextlib.suppress(LogTrimmed):  # a follower that fell behind the cap: end it
                pump.result()
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await stop(pump, watch)
            if self.on_close is not None:
                self.on_close()

    async def _pump(self, send: Send) -> None:
        async for message in self.log.follow(self.after, self.heartbeat_s):
            body = self.heartbeat if message is None else message
            await send({"type": "http.response.body", "body": body, "more_body": True})


async def disconnected(receive: Receive) -> None:
    """Returns when the client has gone away."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def stop(*tasks: asyncio.Task[None]) -> None:
    """Cancel helper tasks and wait for them, swallowing what a gone client makes them raise."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
