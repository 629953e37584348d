"""Issue 17: attacks on the runtime that used to work. Each test failed on the old code."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from datetime import UTC, datetime
from typing import Any

import jwt as pyjwt
import pytest
import websockets
from rthelpers import AGENT, ScriptAgent, build, client_for, make_keys, make_spec, post_scope, serve

from agentdock.errors import StoreError
from agentdock.policy import build_policy
from agentdock.runtime.app import create_app
from agentdock.runtime.components import Components
from agentdock.security import build_authenticator, build_authorizer, build_rate_limiter
from agentdock.store.runtime import StoreKeyResolver

pytestmark = pytest.mark.functional

SCORED = {
    "io_schema": {
        "input": {
            "type": "object",
            "properties": {"text": {"type": "string"}, "score": {"type": "number"}},
            "required": ["text"],
        },
        "output": {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]},
    }
}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_nan_and_infinity_are_refused_in_number_fields(literal: str) -> None:
    built = build(make_spec(**SCORED))
    async with client_for(built.app) as client:
        body = '{"text": "x", "score": ' + literal + "}"
        invoke = await client.post(
            "/invoke", content=body, headers={**built.keys.headers(), "content-type": "application/json"}
        )
        streamed = await client.get("/stream", params={"input": body}, headers=built.keys.headers())
    assert invoke.status_code == 422 and streamed.status_code == 422
    assert built.agent.calls == 0
    # and a NaN that reached the validator another way (a WebSocket message, Python callers)
    with pytest.raises(Exception) as info:
        built.app.state.runtime.contract.check_input({"text": "x", "score": float("nan")})
    assert getattr(info.value, "code", None) == 422


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/html"])
async def test_bodies_that_are_not_json_get_415(content_type: str) -> None:
    built = build()
    async with client_for(built.app) as client:
        headers = {**built.keys.headers(), "content-type": content_type}
        invoke = await client.post("/invoke", content='{"text": "x"}', headers=headers)
        stream = await client.post("/stream", content='{"text": "x"}', headers=headers)
        ok = await client.post("/invoke", json={"text": "x"}, headers=built.keys.headers())
    assert invoke.status_code == 415 and stream.status_code == 415
    assert invoke.json()["error"] == "UnsupportedMediaType" and "application/json" in invoke.json()["detail"]
    assert ok.status_code == 200 and built.agent.calls == 1


async def test_options_on_stream_lists_post_in_allow() -> None:
    built = build()
    async with client_for(built.app) as client:
        response = await client.request("OPTIONS", "/stream", headers=built.keys.headers())
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed


async def test_a_jwt_whose_exp_is_a_string_is_refused() -> None:
    secret = "s" * 32
    spec = make_spec(auth={"mode": "jwt", "jwt": {"secret_key": secret}, "api_keys": {"enabled": False}})
    built = build(spec)
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "u", "role": "developer", "aud": AGENT, "iat": now}
    good = pyjwt.encode({**claims, "exp": now + 600}, secret, algorithm="HS256")
    stringly = pyjwt.encode({**claims, "exp": str(now + 10**9)}, secret, algorithm="HS256")
    async with client_for(built.app) as client:
        ok = await client.post("/invoke", json={"text": "x"}, headers={"authorization": f"Bearer {good}"})
        bad = await client.post(
            "/invoke", json={"text": "x"}, headers={"authorization": f"Bearer {stringly}"}
        )
    assert ok.status_code == 200
    assert bad.status_code == 401 and "NumericDate" in bad.json()["detail"]


class DownStore:
    """A store that cannot answer (the database is gone)."""

    def get_key(self, key_id: str) -> Any:
        raise StoreError("", "connection refused")


async def test_ready_is_false_while_the_key_store_is_down() -> None:
    spec = make_spec()
    components = Components(
        authenticator=build_authenticator(spec, key_resolver=StoreKeyResolver(DownStore())),  # type: ignore[arg-type]
        authorizer=build_authorizer(spec),
        rate_limiter=build_rate_limiter(spec),
        policy=build_policy(spec),
    )
    app = create_app(spec, components=components, adapter=build(spec).adapter, log_sink=lambda _: None)
    async with client_for(app) as client:
        ready = await client.get("/ready")
        health = await client.get("/health")
    assert health.status_code == 200
    assert ready.status_code == 503 and "key store" in ready.json()["detail"]


async def test_a_key_revoked_during_a_websocket_session_stops_working() -> None:
    keys = make_keys()
    built = build(make_spec(expose={"streaming": "websocket"}), keys=keys)
    key_id = keys.developer.split("_")[1]
    with serve(built.app) as url:
        ws_url = url.replace("http", "ws") + "/ws/stream"
        async with websockets.connect(ws_url, additional_headers=keys.headers()) as ws:
            await ws.send(json.dumps({"input": {"text": "x"}}))
            first = [json.loads(await ws.recv()) for _ in range(4)]
            record = await keys.resolver.resolve(key_id)
            assert record is not None
            keys.resolver.add(dataclasses.replace(record, revoked_at=datetime.now(UTC)))
            await ws.send(json.dumps({"input": {"text": "again"}}))
            refused = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
    assert first[-1]["type"] == "end"
    assert refused["type"] == "error" and refused["code"] == 499
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert built.agent.calls == 1


async def test_a_jwt_that_expires_during_a_websocket_session_stops_working() -> None:
    secret = "s" * 32
    spec = make_spec(
        auth={"mode": "jwt", "jwt": {"secret_key": secret}, "api_keys": {"enabled": False}},
        expose={"streaming": "websocket"},
    )
    built = build(spec)
    now = int(time.time())
    # inside the 10 s leeway now, past it in ~1 s
    token = pyjwt.encode(
        {"sub": "u", "role": "developer", "aud": AGENT, "iat": now - 60, "exp": now - 9},
        secret,
        algorithm="HS256",
    )
    with serve(built.app) as url:
        ws_url = url.replace("http", "ws") + "/ws/stream"
        async with websockets.connect(ws_url, additional_headers={"authorization": f"Bearer {token}"}) as ws:
            await ws.send(json.dumps({"input": {"text": "x"}}))
            first = [json.loads(await ws.recv()) for _ in range(4)]
            await asyncio.sleep(max(0.0, now + 2.2 - time.time()))
            await ws.send(json.dumps({"input": {"text": "again"}}))
            refused = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
    assert first[-1]["type"] == "end"
    assert refused["type"] == "error" and refused["code"] == 498
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_a_websocket_message_over_the_body_limit_is_refused() -> None:
    built = build(make_spec(expose={"streaming": "websocket"}, arguments={"max_body_bytes": 2000}))
    with serve(built.app) as url:  # plain uvicorn (16 MiB ws_max_size): the app enforces the limit
        ws_url = url.replace("http", "ws") + "/ws/stream"
        async with websockets.connect(ws_url, additional_headers=built.keys.headers()) as ws:
            await ws.send(json.dumps({"input": {"text": "y" * 400}, "pad": "x" * 5000}))
            refused = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
    assert refused["code"] == 413 and "2000 bytes" in refused["detail"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert built.agent.calls == 0


async def test_an_sse_client_that_stops_reading_is_dropped_after_the_send_timeout() -> None:
    agent = ScriptAgent(tokens=["tok "] * 50, delay_s=0.0)
    built = build(make_spec(arguments={"send_timeout_sec": 0.3}), agent=agent)
    app = built.app
    sent: list[dict[str, Any]] = []
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not sent:
            return {"type": "http.request", "body": b'{"text": "x"}', "more_body": False}
        await never.wait()  # connected, silent: no disconnect ever comes
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and len(sent) > 3:
            await never.wait()  # the socket buffer is full: the write blocks forever

    scope = post_scope("/stream", built.keys.developer)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app(scope, receive, send), timeout=5)  # hung forever before
    assert sent[0]["status"] == 200


async def test_a_rate_limit_holds_across_instances_sharing_a_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two instances (two apps) of one agent: the limit is 3 per minute in total, not per instance."""
    monkeypatch.setenv("AGENTDOCK_STORE", f"memory://rl-{time.time_ns()}")
    monkeypatch.setenv("AGENTDOCK_SHARED_RATE_LIMIT", "1")
    spec = make_spec(auth={"rate_limits": {"developer": "3/m"}})
    keys = make_keys()
    first, second = build(spec, keys=keys), build(spec, keys=keys)
    statuses = []
    async with client_for(first.app) as a, client_for(second.app) as b:
        for client in (a, b, a, b, a, b):
            response = await client.post("/invoke", json={"text": "x"}, headers=keys.headers())
            statuses.append(response.status_code)
    assert statuses.count(200) == 3 and statuses.count(429) == 3


def test_a_server_database_store_is_shared_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentdock.security import SHARED_SCHEMES, shared_store_from_env

    assert "dynamodb" in SHARED_SCHEMES and "postgresql" in SHARED_SCHEMES
    monkeypatch.setenv("AGENTDOCK_STORE", "sqlite:///nowhere.db")
    monkeypatch.delenv("AGENTDOCK_SHARED_RATE_LIMIT", raising=False)
    assert shared_store_from_env() is None  # one process, one file: the local limiter is exact


async def test_get_stream_refuses_unknown_query_parameters() -> None:
    built = build()
    async with client_for(built.app) as client:
        typo = await client.get(
            "/stream", params={"input": '{"text": "x"}', "inptu": "1"}, headers=built.keys.headers()
        )
    assert typo.status_code == 422 and "inptu" in typo.json()["detail"]
    assert built.agent.calls == 0
