"""The SSE response of the LangGraph routes: follow one run's event log, from ``Last-Event-ID``.

Each event is ``event:``/``data:``/``id:`` (the id is its position in the run's log), written
the moment the run appends it; ``: heartbeat`` comments keep an idle connection and its
proxies open. A client that goes away does not stop the run unless it asked for that
(``on_disconnect: cancel``): it reconnects (``Location`` header) with ``Last-Event-ID`` and
gets the rest. ``Location``/``Content-Location`` name the run as the reference server does, so
``langgraph_sdk``'s automatic reconnect and ``on_run_created`` work.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import Receive, Scope, Send

from agentdock.runtime.langgraph_api.registry import RunRecord

HEARTBEAT = b": heartbeat\n\n"


def last_event_id(value: str | None) -> int:
    """``Last-Event-ID`` as a log position; anything unparsable replays from the start."""
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def run_paths(run: RunRecord) -> tuple[str, str]:
    base = f"/threads/{run.thread_id}/runs/{run.run_id}" if run.thread_id else f"/runs/{run.run_id}"
    return base, f"{base}/stream"


class RunEventStream:
    """An ASGI response streaming ``run``'s events after ``after``."""

    def __init__(self, run: RunRecord, after: int, heartbeat_s: float, cancel_on_disconnect: bool) -> None:
        self.run = run
        self.after = after
        self.heartbeat_s = heartbeat_s
        self.cancel_on_disconnect = cancel_on_disconnect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content, location = run_paths(self.run)
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
            (b"location", location.encode()),
            (b"content-location", content.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        pump = asyncio.create_task(self._pump(send))
        watch = asyncio.create_task(_disconnected(receive))
        try:
            done, _ = await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
            if watch in done:
                if self.cancel_on_disconnect and self.run.task is not None and not self.run.done.is_set():
                    self.run.task.cancel()
                return
            pump.result()
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            for task in (pump, watch):
                task.cancel()
            for task in (pump, watch):
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task

    async def _pump(self, send: Send) -> None:
        """Write the log from ``after`` on; wait for the run to append more (or a heartbeat)."""
        run, seq = self.run, self.after
        events = run.events
        while True:
            while seq < len(events):
                seq += 1
                await send({"type": "http.response.body", "body": events[seq - 1], "more_body": True})
            if run.done.is_set():
                return
            wake = run.wake
            try:
                async with asyncio.timeout(self.heartbeat_s):
                    await wake.wait()
            except TimeoutError:
                await send({"type": "http.response.body", "body": HEARTBEAT, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
