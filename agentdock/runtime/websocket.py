"""WS /ws/stream (``expose.streaming: websocket``): the same pipeline as SSE over a WebSocket.

The handshake is authenticated with the same headers as HTTP (``Authorization`` or
``x-api-key``). A refused handshake is accepted just long enough to send the error envelope
as ``{"type": "error", ...}`` and close with 1008, so the client learns why. Then every
client message ``{"input": {...}}`` starts one run, answered by ``start``, ``token``...,
then ``end`` or ``error``; runs on one connection are sequential and each one counts
against the caller's rate limit.

Every message is authenticated again (``Pipeline.recheck``: the key record through the
resolver's cache, a token's ``exp`` against the clock): once the key is revoked or expired,
or the token expired, the next message gets the error and the connection closes with 1008.
A message larger than ``arguments.max_body_bytes`` gets 413 and a close with 1009, the same
limit an HTTP body has (``agentdock serve`` also sets uvicorn's ``ws_max_size`` to it).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pydantic_core
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from agentdock.errors import HTTPError, PayloadTooLarge
from agentdock.runtime.contract import InputInvalid
from agentdock.runtime.pipeline import Pipeline, StreamClosed
from agentdock.stages import Principal

POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
WS_EVENTS = frozenset({"start", "token", "end", "error"})


async def _refuse(websocket: WebSocket, exc: HTTPError, state: dict[str, Any], close_code: int) -> None:
    state["error"] = exc.name
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_text(
            pydantic_core.to_json({"type": "error", **exc.envelope(state["trace_id"])}).decode()
        )
        await websocket.close(code=close_code, reason=exc.name)


def _too_big(raw: str, max_bytes: int) -> bool:
    # a str of n characters is at least n and at most 4n bytes of UTF-8: encode only when unsure
    return len(raw) > max_bytes or (len(raw) * 4 > max_bytes and len(raw.encode()) > max_bytes)


def make_ws_endpoint(pipeline: Pipeline, max_message_bytes: int = 1 << 20) -> Any:
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
            if _too_big(raw, max_message_bytes):
                too_big = PayloadTooLarge(
                    f"message exceeds the limit of {max_message_bytes} bytes (arguments.max_body_bytes)",
                    path="arguments.max_body_bytes",
                )
                await _refuse(websocket, too_big, state, MESSAGE_TOO_BIG)
                return
            if not first:
                try:
                    principal = await pipeline.recheck(websocket, "invoke")
                except HTTPError as exc:
                    await _refuse(websocket, exc, state, POLICY_VIOLATION)
                    return
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
    send_timeout_s = pipeline.settings.send_timeout_s

    async def emit(event: str, data: dict[str, Any]) -> None:
        if event not in WS_EVENTS:
            return
        try:
            async with asyncio.timeout(send_timeout_s):  # a client that stopped reading is dropped
                await websocket.send_text(
                    pydantic_core.to_json({"type": event, **data}, fallback=str).decode()
                )
        except (WebSocketDisconnect, RuntimeError, OSError, TimeoutError) as exc:
            raise StreamClosed() from exc

    try:
        if count:
            await pipeline.count(websocket, principal)
        try:
            message = pydantic_core.from_json(raw, allow_inf_nan=False)
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
