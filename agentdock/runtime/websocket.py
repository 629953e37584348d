"""WS /ws/stream (``expose.streaming: websocket``): the same pipeline as SSE over a WebSocket.

The handshake is authenticated with the same headers as HTTP (``Authorization`` or
``x-api-key``). A refused handshake is accepted just long enough to send the error envelope
as ``{"type": "error", ...}`` and close with 1008, so the client learns why. Then every
client message ``{"input": {...}}`` starts one run, answered by ``start``, ``token``...,
then ``end`` or ``error``; runs on one connection are sequential and each one counts
against the caller's rate limit.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pydantic_core
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from agentdock.errors import HTTPError
from agentdock.runtime.contract import InputInvalid
from agentdock.runtime.pipeline import Pipeline, StreamClosed
from agentdock.stages import Principal

POLICY_VIOLATION = 1008
WS_EVENTS = frozenset({"start", "token", "end", "error"})


def make_ws_endpoint(pipeline: Pipeline) -> Any:
    async def ws_stream(websocket: WebSocket) -> None:
        state = websocket.scope["state"]
        trace_id = state["trace_id"]
        try:
            principal = await pipeline.guard(websocket, "invoke")
        except HTTPError as exc:
            state["error"] = exc.name
            await websocket.accept()
            await websocket.send_text(
                pydantic_core.to_json({"type": "error", **exc.envelope(trace_id)}).decode()
            )
            await websocket.close(code=POLICY_VIOLATION, reason=exc.name)
            return
        await websocket.accept()
        total = {"input_tokens": 0, "output_tokens": 0}
        first = True
        while True:
            try:
                raw = await websocket.receive_text()
            except WebSocketDisconnect:
                break
            try:
                await _run(websocket, pipeline, principal, raw, state, count=not first)
            except StreamClosed:
                break
            first = False
            usage = state.get("usage") or {}
            for key in total:
                total[key] += usage.get(key, 0)
        state["usage"] = total
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close()

    return ws_stream


async def _run(
    websocket: WebSocket,
    pipeline: Pipeline,
    principal: Principal,
    raw: str,
    state: dict[str, Any],
    *,
    count: bool,
) -> None:
    trace_id = state["trace_id"]

    async def emit(event: str, data: dict[str, Any]) -> None:
        if event not in WS_EVENTS:
            return
        try:
            await websocket.send_text(pydantic_core.to_json({"type": event, **data}, fallback=str).decode())
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise StreamClosed() from exc

    try:
        if count:
            await pipeline.count(websocket, principal)
        try:
            message = pydantic_core.from_json(raw)
        except ValueError:
            raise InputInvalid(
                'messages are JSON objects: {"input": {...}}',
                [{"loc": ["message"], "msg": "Invalid JSON", "type": "json_invalid"}],
            ) from None
        if not isinstance(message, dict) or "input" not in message:
            raise InputInvalid(
                'messages are JSON objects: {"input": {...}}',
                [{"loc": ["message", "input"], "msg": "Field required", "type": "missing"}],
            )
        payload = pipeline.prepare(message["input"], ("message", "input"))
    except HTTPError as exc:
        state["error"] = exc.name
        await emit("error", exc.envelope(trace_id))
        return
    await pipeline.stream(payload, pipeline.context(trace_id, state), emit, state)
