"""Server-Sent Events: GET /stream?input=<json> and POST /stream, and their resume.

Everything that can fail before the first byte (auth, rate limit, input validation, input
policy) fails as an ordinary JSON error response. After that the response is a 200
``text/event-stream`` and each pipeline event is written the moment it is emitted: one ASGI
``http.response.body`` message per event, nothing buffered (``X-Accel-Buffering: no`` tells
nginx-style proxies the same). ``: ping`` comments keep idle connections (and their proxies)
open. A client that stays connected but stops reading fills the socket buffer and blocks the
write: after ``arguments.send_timeout_sec`` (30 s) it is dropped like a disconnect.

Resume. Each event's ``id:`` is ``<run_id>:<n>``. The run executes in the task of the request
that started it and also appends its events to a log (``runlog.EventLog``, capped at
``MAX_RESUME_BYTES``). When that client goes away the run goes on for
``arguments.resume_window_sec``: a request that carries ``Last-Event-ID: <run_id>:<n>`` (what
a browser's ``EventSource`` sends when it reconnects to the same URL) or ``GET
/stream/{run_id}`` gets the events after ``n`` and then the live ones. Only the principal that
started the run (or an admin) can rejoin it. With nobody reading when the window closes, the
run is cancelled, so its tokens and memory are released. A finished run stays rejoinable for one
more window; rejoining it after its last event answers 204, which tells ``EventSource`` to stop
reconnecting. ``resume_window_sec: 0`` keeps no log and cancels the run on disconnect (the
default on Lambda, where a reconnect never reaches the environment that is still streaming).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import OrderedDict
from typing import Any

import pydantic_core
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from agentdock.adapters.base import RunContext
from agentdock.errors import Gone, NotFound
from agentdock.runtime.contract import InputInvalid
from agentdock.runtime.pipeline import Pipeline, StreamClosed
from agentdock.runtime.runlog import EventLog, LogStream, disconnected, stop
from agentdock.stages import Principal

SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
PING = b": ping\n\n"
MAX_RESUME_BYTES = 1 << 20  # per run: a client can rejoin within its last 1 MiB of events
MAX_KEPT_RUNS = 256  # finished runs kept for their window; the oldest go first beyond this
MAX_KEPT_BYTES = 32 << 20  # ... or beyond this many bytes of their logs


def sse_event(event_id: str, event: str, data: dict[str, Any]) -> bytes:
    """One SSE message; data is compact JSON (no newlines, so one ``data:`` line suffices)."""
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (
        event_id.encode(),
        event.encode(),
        pydantic_core.to_json(data, fallback=str),
    )


class StreamRun:
    """A /stream run that its client can rejoin: the log, who may read it, who is reading."""

    def __init__(self, run_id: str, owner: str, task: asyncio.Task[Any], window_s: float) -> None:
        self.run_id = run_id
        self.owner = owner
        self.task = task
        self.window_s = window_s
        self.log = EventLog(MAX_RESUME_BYTES)
        self.readers = 1  # the request that started it
        self.expired = False
        self.kept_until = float("inf")  # set when it ends: rejoinable for one more window
        self._expiry: asyncio.TimerHandle | None = None

    def join(self) -> None:
        self.readers += 1
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def leave(self) -> None:
        """A reader went away: with none left, cancel the run unless one comes back in time."""
        self.readers -= 1
        if self.readers == 0 and not self.log.done.is_set() and self._expiry is None:
            self._expiry = asyncio.get_running_loop().call_later(self.window_s, self._expire)

    def _expire(self) -> None:
        self.expired = True
        self.task.cancel()

    def close(self) -> None:
        self.log.close()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None


class StreamRuns:
    """The rejoinable /stream runs of this process."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._runs: dict[str, StreamRun] = {}
        self._finished: OrderedDict[str, StreamRun] = OrderedDict()  # oldest first
        self._kept_bytes = 0

    def start(self, run_id: str, owner: str, task: asyncio.Task[Any]) -> StreamRun:
        run = StreamRun(run_id, owner, task, self.window_s)
        self._runs[run_id] = run
        return run

    def finish(self, run: StreamRun) -> None:
        """The run ended: keep its log for one more window, for a client that missed the end,
        within ``MAX_KEPT_RUNS`` / ``MAX_KEPT_BYTES`` (the oldest finished logs go first)."""
        run.close()
        run.kept_until = time.monotonic() + self.window_s
        self._finished[run.run_id] = run
        self._kept_bytes += run.log.size
        self._sweep()

    def _sweep(self) -> None:
        """Forget finished runs past their window or over the budget, oldest first (no timers:
        the finished runs are in finishing order, so this stops at the first one to keep)."""
        now = time.monotonic()
        while self._finished:
            oldest = next(iter(self._finished.values()))
            over = len(self._finished) > MAX_KEPT_RUNS or self._kept_bytes > MAX_KEPT_BYTES
            if not over and oldest.kept_until > now:
                return
            self._forget(oldest.run_id)

    def _forget(self, run_id: str) -> None:
        self._runs.pop(run_id, None)
        run = self._finished.pop(run_id, None)
        if run is not None:
            self._kept_bytes -= run.log.size

    def rejoin(
        self, run_id: str, after: int, principal: Principal, heartbeat_s: float
    ) -> Response | LogStream:
        self._sweep()
        run = self._runs.get(run_id)
        if run is None or (run.owner != principal.owner and not principal.sees_all):
            raise NotFound(
                f"stream run {run_id} is not on this instance (it ended over "
                f"{self.window_s:g}s ago, or another instance runs it); start a new stream",
                path="headers.last-event-id",
            )
        log = run.log
        if log.done.is_set() and after >= log.last_id:
            return Response(status_code=204)  # nothing left: EventSource stops reconnecting
        if after < log.base:
            raise Gone(
                f"events {after + 1}..{log.base} of stream run {run_id} are no longer kept (the "
                f"last {MAX_RESUME_BYTES // 1024} KiB are); start a new stream",
                path="headers.last-event-id",
            )
        run.join()
        return LogStream(log, after, heartbeat_s, PING, SSE_HEADERS, on_close=run.leave)


def parse_event_id(value: str | None) -> tuple[str, int] | None:
    """``<run_id>:<n>`` from a ``Last-Event-ID`` header, or None for anything else."""
    run_id, sep, seq = (value or "").strip().rpartition(":")
    if not sep or not run_id or not seq.isdigit():
        return None
    return run_id, int(seq)


class SSEResponse:
    """An ASGI response that drives ``Pipeline.stream`` and writes its events as they come."""

    def __init__(
        self,
        pipeline: Pipeline,
        payload: dict[str, Any],
        ctx: RunContext,
        state: dict[str, Any],
        owner: str,
        runs: StreamRuns | None,
    ) -> None:
        self.pipeline = pipeline
        self.payload = payload
        self.ctx = ctx
        self.state = state
        self.owner = owner
        self.runs = runs
        self.heartbeat_s = pipeline.settings.heartbeat_s
        self.send_timeout_s = pipeline.settings.send_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        assert main is not None
        run_id = os.urandom(16).hex()
        run = None if self.runs is None else self.runs.start(run_id, self.owner, main)
        seq = 0
        last_write = loop.time()
        attached = True  # the client that started the run is still reading
        disconnected_ = False

        async def write(chunk: bytes) -> None:
            nonlocal last_write
            try:
                async with asyncio.timeout(self.send_timeout_s):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except OSError as exc:  # the client went away (ASGI 2.4 servers raise on send)
                raise StreamClosed() from exc
            except TimeoutError as exc:  # the client stopped reading: drop it
                if run is None:
                    self.state["error"] = "SendTimeout"
                raise StreamClosed() from exc
            last_write = loop.time()

        def detach() -> None:
            nonlocal attached
            if attached and run is not None:
                attached = False
                run.leave()

        async def emit(event: str, data: dict[str, Any]) -> None:
            nonlocal seq
            seq += 1
            message = sse_event(f"{run_id}:{seq}", event, data)
            if run is not None:
                run.log.push(message)
            if attached:
                try:
                    await write(message)
                except StreamClosed:
                    if run is None:
                        raise
                    detach()  # the run goes on; its client may come back for the rest

        async def heartbeat() -> None:
            while attached:
                await asyncio.sleep(max(0.0, last_write + self.heartbeat_s - loop.time()))
                if attached and loop.time() - last_write >= self.heartbeat_s:
                    await write(PING)

        async def watch_disconnect() -> None:
            nonlocal disconnected_
            await disconnected(receive)
            disconnected_ = True
            if run is None:
                main.cancel()
            else:
                detach()

        async def close_quietly() -> None:
            """End the response of a client that stopped reading: best effort, it may never read."""
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    send({"type": "http.response.body", "body": b"", "more_body": False}), 0.1
                )

        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        helpers = [asyncio.create_task(heartbeat()), asyncio.create_task(watch_disconnect())]
        try:
            await self.pipeline.stream(self.payload, self.ctx, emit, self.state, run_id)
            await stop(*helpers)
            if attached:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            # ours: the client left (no resume), or nobody came back within the window
            if not ((run is None and disconnected_) or (run is not None and run.expired)):
                raise
            main.uncancel()
            self.state.setdefault("error", "ClientDisconnected")
            if run is not None:  # a client that comes back late learns what happened
                window = f"{run.window_s:g}"
                cause = f"the run was cancelled: nobody read its stream for {window}s"
                await emit(
                    "error", Gone(f"{cause} (arguments.resume_window_sec)").envelope(self.ctx.trace_id)
                )
        except StreamClosed:
            self.state.setdefault("error", "ClientDisconnected")
            if self.state["error"] == "SendTimeout":
                await close_quietly()
        finally:
            await stop(*helpers)
            if run is not None and self.runs is not None:
                self.runs.finish(run)
                if not attached and not disconnected_:  # dropped for not reading, still connected
                    await close_quietly()


def make_stream_endpoints(pipeline: Pipeline) -> tuple[Any, Any, Any]:
    """The GET and POST /stream endpoints and GET /stream/{run_id}, bound to one app's pipeline."""
    guard, prepare, prepare_body, context = (
        pipeline.guard,
        pipeline.prepare,
        pipeline.prepare_body,
        pipeline.context,
    )
    settings = pipeline.settings
    runs = StreamRuns(settings.resume_window_s)
    resumable = runs if settings.resume_window_s > 0 else None

    def start(request: Request, principal: Principal, payload: dict[str, Any]) -> SSEResponse:
        state = request.scope["state"]
        ctx = context(state["trace_id"], state)
        return SSEResponse(pipeline, payload, ctx, state, principal.owner, resumable)

    def resumed(request: Request, principal: Principal) -> Response | LogStream | None:
        """A reconnect (``Last-Event-ID: <run_id>:<n>``) rejoins its run and never starts
        another one: re-running would repeat the agent's tokens, cost and side effects."""
        last = parse_event_id(request.headers.get("last-event-id"))
        if last is None:
            return None
        return runs.rejoin(last[0], last[1], principal, settings.heartbeat_s)

    async def stream_get(request: Request) -> SSEResponse | Response | LogStream:
        principal = await guard(request, "invoke")
        again = resumed(request, principal)
        if again is not None:
            return again
        params = request.query_params
        unknown = sorted(k for k in params if k != "input")
        if unknown:  # strict like the body: a typo (?inptu=) must not run with defaults
            raise InputInvalid(
                f"unknown query parameter(s): {', '.join(unknown[:5])}; /stream takes only 'input'",
                [
                    {
                        "loc": ["query", name],
                        "msg": "Extra inputs are not permitted",
                        "type": "extra_forbidden",
                    }
                    for name in unknown[:5]
                ],
            )
        raw = params.get("input")
        if raw is None:
            raise InputInvalid(
                "the query parameter 'input' (a JSON object) is required",
                [{"loc": ["query", "input"], "msg": "Field required", "type": "missing"}],
            )
        try:
            data = pydantic_core.from_json(raw, allow_inf_nan=False)
        except ValueError:
            raise InputInvalid(
                "the query parameter 'input' is not valid JSON",
                [{"loc": ["query", "input"], "msg": "Invalid JSON", "type": "json_invalid"}],
            ) from None
        return start(request, principal, prepare(data, ("query", "input")))

    async def stream_post(request: Request) -> SSEResponse | Response | LogStream:
        principal = await guard(request, "invoke")
        again = resumed(request, principal)
        if again is not None:
            return again
        return start(request, principal, prepare_body(await request.body()))

    async def rejoin(request: Request) -> Response | LogStream:
        """GET /stream/{run_id}: the events after ``Last-Event-ID`` (``<run_id>:<n>`` or ``<n>``;
        none = from the start), then the live ones."""
        principal = await guard(request, "invoke")
        run_id = request.path_params["run_id"]
        header = request.headers.get("last-event-id")
        last = parse_event_id(header)
        if last is not None and last[0] != run_id:
            raise InputInvalid(
                f"Last-Event-ID names run {last[0]}, not {run_id}",
                [{"loc": ["headers", "last-event-id"], "msg": "Names another run", "type": "value_error"}],
            )
        after = last[1] if last is not None else _position(header)
        return runs.rejoin(run_id, after, principal, settings.heartbeat_s)

    return stream_get, stream_post, rejoin


def _position(header: str | None) -> int:
    value = (header or "0").strip()
    if not value.isdigit():
        raise InputInvalid(
            "Last-Event-ID must be '<run_id>:<n>' or '<n>', as the stream's event ids are",
            [{"loc": ["headers", "last-event-id"], "msg": "Not an event id", "type": "value_error"}],
        )
    return int(value)
