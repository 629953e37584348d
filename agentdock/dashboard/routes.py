"""The console's JSON API under ``/api``: session, agents, deployments, keys, metrics, logs,
playground, and one SSE stream of changes. Every route checks the session's permission (the
browser hides what a role may not do, and the API refuses it too)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from agentdock.dashboard import service
from agentdock.dashboard.auth import (
    COOKIE,
    CSRF_HEADER,
    Principal,
    csrf_ok,
    principal_from_jwt,
    principal_from_key,
)
from agentdock.errors import AuthenticationError, BadRequest, PermissionDenied
from agentdock.ops.keys import audit

router = APIRouter(prefix="/api")
EVENT_POLL_S = 0.25
HEARTBEAT_S = 15.0


def _state(request: Request) -> Any:
    return request.app.state.console


def principal(request: Request) -> Principal:
    session = _state(request).sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise AuthenticationError("sign in first")
    if request.method not in ("GET", "HEAD") and not csrf_ok(session, request.headers.get(CSRF_HEADER)):
        raise PermissionDenied(
            "missing or wrong CSRF token", hint=f"send the session's token in {CSRF_HEADER}"
        )
    return session.principal


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _store_call(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return run_in_threadpool(fn, _state(request).store, *args, **kwargs)


# -- session ------------------------------------------------------------------------------


@router.post("/session")
async def sign_in(request: Request, response: Response) -> dict[str, Any]:
    data = await _body(request)
    store = _state(request).store
    if data.get("key"):
        who = await run_in_threadpool(principal_from_key, store, str(data["key"]))
    elif data.get("token") and data.get("agent"):
        who = await run_in_threadpool(principal_from_jwt, store, str(data["agent"]), str(data["token"]))
    else:
        raise BadRequest("give an API key ('key'), or an agent and its JWT ('agent', 'token')")
    sid, session = _state(request).sessions.open(who)
    await run_in_threadpool(audit, store, who.actor, "console.sign_in", who.agent, {"role": who.role})
    response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/", max_age=8 * 3600)
    return {**who.to_dict(), "csrf": session.csrf}


@router.get("/session")
async def whoami(request: Request) -> dict[str, Any]:
    session = _state(request).sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise AuthenticationError("sign in first")
    return {**session.principal.to_dict(), "csrf": session.csrf}


@router.delete("/session")
async def sign_out(request: Request, response: Response) -> dict[str, Any]:
    principal(request)
    _state(request).sessions.close(request.cookies.get(COOKIE))
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True}


# -- agents -------------------------------------------------------------------------------


@router.get("/agents")
async def agents(request: Request) -> dict[str, Any]:
    who = principal(request)
    names = [n for n in await _store_call(request, service.agent_names) if who.sees(n)]
    rows = []
    for name in names:
        status = await _store_call(request, service.agent_status, name)
        row = {k: status.get(k) for k in ("agent", "target", "live_version", "url", "healthy")}
        row["uptime_s"] = (status.get("details") or {}).get("uptime_s")
        if "view_metrics" in who.permissions:
            today = await _store_call(request, service.metrics, name, "24h")
            hour = await _store_call(request, service.metrics, name, "1h")
            row["metrics"] = {
                "available": hour.get("available", False),
                "requests_per_min": hour.get("requests_per_min"),
                "error_rate": hour.get("error_rate"),
                "p95_ms": (hour.get("latency_ms") or {}).get("p95"),
                "cost_today_usd": today.get("cost_usd"),
            }
        rows.append(row)
    return {"agents": rows}


@router.get("/agents/{agent}")
async def agent_detail(agent: str, request: Request) -> dict[str, Any]:
    _see(request, agent)
    overview = await _store_call(request, service.overview, agent)
    status = await _store_call(request, service.agent_status, agent)
    return {"overview": overview, "status": status}


def _see(request: Request, agent: str) -> Principal:
    who = principal(request)
    if not who.sees(agent):
        raise PermissionDenied(f"this session is for agent {who.agent!r} only")
    return who


@router.get("/agents/{agent}/deployments")
async def agent_deployments(agent: str, request: Request) -> dict[str, Any]:
    _see(request, agent)
    return dict(await _store_call(request, service.deployments, agent))


@router.post("/agents/{agent}/rollback")
async def rollback(agent: str, request: Request) -> dict[str, Any]:
    return await _move(agent, request, "rollback")


@router.post("/agents/{agent}/promote")
async def promote(agent: str, request: Request) -> dict[str, Any]:
    return await _move(agent, request, "promote")


async def _move(agent: str, request: Request, action: str) -> dict[str, Any]:
    who = principal(request)
    who.require("rollback", agent)
    data = await _body(request)
    version = data.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise BadRequest("'version' must be a positive integer")
    bus = _state(request).bus
    step = f"{action} {agent}"
    bus.publish({"kind": "progress", "agent": agent, "action": action, "step": f"{step}: started"})
    try:
        result = await _store_call(
            request,
            service.move,
            agent,
            action=action,
            version=version,
            actor=f"dashboard:{who.actor}",
            progress=lambda s: bus.publish({"kind": "progress", "agent": agent, "action": action, "step": s}),
        )
    except Exception as exc:
        bus.publish(
            {"kind": "progress", "agent": agent, "action": action, "step": f"{step}: failed", "done": True}
        )
        raise exc
    bus.publish({"kind": "progress", "agent": agent, "action": action, "step": f"{step}: done", "done": True})
    return result


# -- keys ---------------------------------------------------------------------------------


@router.get("/agents/{agent}/keys")
async def list_keys(agent: str, request: Request) -> dict[str, Any]:
    principal(request).require("key_manage", agent)
    return {"keys": await _store_call(request, service.keys, agent)}


@router.post("/agents/{agent}/keys")
async def create_key(agent: str, request: Request) -> dict[str, Any]:
    who = principal(request)
    who.require("key_manage", agent)
    data = await _body(request)
    return await _key_call(
        request, agent, "create", who, role=data.get("role"), expires_in=data.get("expires_in")
    )


@router.post("/agents/{agent}/keys/{key_id}/{action}")
async def key_action(agent: str, key_id: str, action: str, request: Request) -> dict[str, Any]:
    who = principal(request)
    who.require("key_manage", agent)
    if action not in ("rotate", "revoke"):
        raise BadRequest(f"unknown key action {action!r}", hint="rotate or revoke")
    return await _key_call(request, agent, action, who, key_id=key_id)


async def _key_call(
    request: Request, agent: str, action: str, who: Principal, **kwargs: Any
) -> dict[str, Any]:
    try:
        return dict(
            await _store_call(
                request, service.key_action, agent, action, actor=f"dashboard:{who.actor}", **kwargs
            )
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


# -- metrics, logs ------------------------------------------------------------------------


@router.get("/agents/{agent}/metrics")
async def agent_metrics(agent: str, request: Request, window: str = "1h") -> dict[str, Any]:
    principal(request).require("view_metrics", agent)
    return dict(await _store_call(request, service.metrics, agent, window))


@router.get("/agents/{agent}/logs")
async def agent_logs(
    agent: str, request: Request, level: str | None = None, q: str | None = None
) -> dict[str, Any]:
    principal(request).require("read_logs", agent)
    return dict(await _store_call(request, service.search_logs, agent, level=level, query=q))


# -- playground ---------------------------------------------------------------------------


@router.post("/agents/{agent}/playground")
async def playground(agent: str, request: Request) -> Response:
    """Call the live version's /invoke or /stream with an agent key (the one this session
    signed in with, or one typed in the playground); a stream comes back as it is produced."""
    who = principal(request)
    who.require("invoke", agent)
    data = await _body(request)
    key = data.get("key") or who.agent_key
    if not key:
        raise BadRequest("an API key of this agent is needed to call it", hint="paste one in the key field")
    status = await _store_call(request, service.agent_status, agent)
    if not status.get("url"):
        raise BadRequest(f"{agent} has no live URL")
    mode = "stream" if data.get("mode") == "stream" else "invoke"
    payload = json.dumps(data.get("input") if isinstance(data.get("input"), dict) else {}).encode()
    headers = {"x-api-key": str(key), "content-type": "application/json"}
    client = _state(request).http
    upstream = await client.send(
        client.build_request("POST", f"{status['url']}/{mode}", content=payload, headers=headers), stream=True
    )

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await upstream.aclose()

    media = upstream.headers.get("content-type", "application/json")
    return StreamingResponse(relay(), status_code=upstream.status_code, media_type=media)


# -- live updates -------------------------------------------------------------------------


@router.get("/events")
async def events(request: Request, agent: str | None = None) -> StreamingResponse:
    """SSE: ``change`` when any pointer, version or key moves, ``metrics`` for ``agent`` when its
    request count changes, ``progress`` steps of rollbacks and promotions; heartbeats."""
    who = principal(request)
    state = _state(request)
    queue = state.bus.subscribe()

    async def stream() -> AsyncIterator[bytes]:
        seq = 0
        last_fp, last_count, quiet = "", -1, 0.0
        tick = 0
        try:
            while not await request.is_disconnected():
                fp = hashlib.sha256(
                    repr(await _store_call(request, service.fingerprint)).encode()
                ).hexdigest()
                if fp != last_fp:
                    seq += 1
                    last_fp = fp
                    yield _sse(seq, "change", {"fingerprint": fp[:16]})
                    quiet = 0.0
                if agent and who.sees(agent) and "view_metrics" in who.permissions and tick % 4 == 0:
                    data = await _store_call(request, service.metrics, agent, "5m")
                    if data.get("available") and data.get("requests") != last_count:
                        last_count = data.get("requests", 0)
                        seq += 1
                        yield _sse(seq, "metrics", data)
                        quiet = 0.0
                while not queue.empty():
                    item = queue.get_nowait()
                    if who.sees(item.get("agent", "")):
                        seq += 1
                        yield _sse(seq, "progress", item)
                        quiet = 0.0
                tick += 1
                quiet += EVENT_POLL_S
                if quiet >= HEARTBEAT_S:
                    quiet = 0.0
                    yield b": heartbeat\n\n"
                await asyncio.sleep(EVENT_POLL_S)
        finally:
            state.bus.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


def _sse(seq: int, event: str, data: Any) -> bytes:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()
