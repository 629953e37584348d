"""Server-Sent Events: GET /stream?input=<json> and POST /stream.

Everything that can fail before the first byte (auth, rate limit, input validation, input
policy) fails as an ordinary JSON error response. After that the response is a 200
``text/event-stream`` and each pipeline event is written the moment it is emitted: one ASGI
``http.response.body`` message per event, nothing buffered (``X-Accel-Buffering: no`` tells
nginx-style proxies the same). Each event carries an ``id:`` so a client can send
``Last-Event-ID``; ``: ping`` comments keep idle connections (and their proxies) open; a
client that disconnects cancels the run. A client that stays connected but stops reading
fills the socket buffer and blocks the write: after ``arguments.send_timeout_sec`` (30 s) the
stream is dropped like a disconnect, so the run, its task and its memory are released.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pydantic_core
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from agentdock.adapters.base import RunContext
from agentdock.runtime.contract import InputInvalid
from agentdock.runtime.pipeline import Pipeline, StreamClosed

SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
PING = b": ping\n\n"


def sse_event(seq: int, event: str, data: dict[str, Any]) -> bytes:
    """One SSE message; data is compact JSON (no newlines, so one ``data:`` line suffices)."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        seq,
        event.encode(),
        pydantic_core.to_json(data, fallback=str),
    )


class SSEResponse:
    """An ASGI response that drives ``Pipeline.stream`` and writes its events as they come."""

    def __init__(
        self, pipeline: Pipeline, payload: dict[str, Any], ctx: RunContext, state: dict[str, Any]
    ) -> None:
        self.pipeline = pipeline
        self.payload = payload
        self.ctx = ctx
        self.state = state
        self.heartbeat_s = pipeline.settings.heartbeat_s
        self.send_timeout_s = pipeline.settings.send_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        seq = 0
        last_write = loop.time()

        async def write(chunk: bytes) -> None:
            nonlocal last_write
            try:
                async with asyncio.timeout(self.send_timeout_s):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except OSError as exc:  # the client went away (ASGI 2.4 servers raise on send)
                raise StreamClosed() from exc
            except TimeoutError as exc:  # the client stopped reading: drop it
                self.state["error"] = "SendTimeout"
                raise StreamClosed() from exc
            last_write = loop.time()

        async def emit(event: str, data: dict[str, Any]) -> None:
            nonlocal seq
            seq += 1
            await write(sse_event(seq, event, data))

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(max(0.0, last_write + self.heartbeat_s - loop.time()))
                if loop.time() - last_write >= self.heartbeat_s:
                    await write(PING)

        main = asyncio.current_task()
        disconnected = False

        async def watch_disconnect() -> None:
            nonlocal disconnected
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    if main is not None:
                        main.cancel()
                    return

        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        helpers = [asyncio.create_task(heartbeat()), asyncio.create_task(watch_disconnect())]
        try:
            await self.pipeline.stream(self.payload, self.ctx, emit, self.state)
            await _stop(helpers)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not disconnected:
                raise
            if main is not None:
                main.uncancel()
            self.state.setdefault("error", "ClientDisconnected")
        except StreamClosed:
            self.state.setdefault("error", "ClientDisconnected")
            if self.state["error"] == "SendTimeout":
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        send({"type": "http.response.body", "body": b"", "more_body": False}), 0.1
                    )
        finally:
            await _stop(helpers)


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, StreamClosed, OSError):
            await task
    tasks.clear()


def make_stream_endpoints(pipeline: Pipeline) -> tuple[Any, Any]:
    """The GET and POST /stream endpoints, bound to one app's pipeline."""
    guard, prepare, prepare_body, context = (
        pipeline.guard,
        pipeline.prepare,
        pipeline.prepare_body,
        pipeline.context,
    )

    async def stream_get(request: Request) -> SSEResponse:
        await guard(request, "invoke")
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
        payload = prepare(data, ("query", "input"))
        state = request.scope["state"]
        return SSEResponse(pipeline, payload, context(state["trace_id"], state), state)

    async def stream_post(request: Request) -> SSEResponse:
        await guard(request, "invoke")
        payload = prepare_body(await request.body())
        state = request.scope["state"]
        return SSEResponse(pipeline, payload, context(state["trace_id"], state), state)

    return stream_get, stream_post
