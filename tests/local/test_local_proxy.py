"""The front proxy as a real process on a free port, in front of real uvicorn backends:
per-request routing from the live file, streaming, request bodies, WebSockets, errors."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from agentdock.targets.local.process import free_port, write_atomic
from agentdock.targets.local.run import ensure_proxy, stop_proxy

from tests.local.conftest import ThreadServer

pytestmark = pytest.mark.integration


def backend(name: str) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            while True:
                msg = await receive()
                if msg["type"] == "websocket.disconnect":
                    return
                await send({"type": "websocket.send", "text": f"{name}:{msg.get('text')}"})
        path = scope["path"]
        if path == "/stream":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")],
                }
            )
            for i in range(3):
                await send(
                    {
                        "type": "http.response.body",
                        "body": f"data: {name}-{i}\n\n".encode(),
                        "more_body": True,
                    }
                )
                await asyncio.sleep(0.4)
            await send({"type": "http.response.body", "body": b""})
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = dict(scope["headers"])
        out = json.dumps(
            {
                "name": name,
                "path": path,
                "query": scope["query_string"].decode(),
                "method": scope["method"],
                "body": body.decode(),
                "forwarded_for": headers.get(b"x-forwarded-for", b"").decode(),
                "api_key": headers.get(b"x-api-key", b"").decode(),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"x-backend", name.encode())],
            }
        )
        await send({"type": "http.response.body", "body": out})

    return app


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, live = free_port(), tmp_path / "proxy" / "live.json"
    ensure_proxy(tmp_path / "proxy", live, port)
    try:
        yield port, live
    finally:
        assert stop_proxy(tmp_path / "proxy")


def point(live: Path, port: int, version: int) -> None:
    write_atomic(live, json.dumps({"port": port, "version": version}))


def test_no_live_version_is_503_then_routes_per_request(proxy: tuple[int, Path]) -> None:
    port, live = proxy
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url) as client:  # one kept-alive connection for everything
        r = client.get("/x")
        assert r.status_code == 503 and r.json()["error"] == "NotReady"
        with ThreadServer(backend("a"), free_port()) as a, ThreadServer(backend("b"), free_port()) as b:
            point(live, a.port, 1)
            r = client.post("/invoke?x=1", content=b'{"text": "hi"}', headers={"x-api-key": "k1"})
            assert (
                r.status_code == 201
                and r.headers["x-agentdock-version"] == "1"
                and r.headers["x-backend"] == "a"
            )
            assert r.json() | {"forwarded_for": "-"} == {
                "name": "a",
                "path": "/invoke",
                "query": "x=1",
                "method": "POST",
                "body": '{"text": "hi"}',
                "forwarded_for": "-",
                "api_key": "k1",
            }
            assert r.json()["forwarded_for"] == "127.0.0.1"
            point(live, b.port, 2)
            r = client.get("/who")
            assert r.json()["name"] == "b" and r.headers["x-agentdock-version"] == "2"
            point(live, a.port, 1)
            assert client.get("/who").json()["name"] == "a"
        r = client.get("/who")  # backend gone
        assert r.status_code == 502 and r.json()["error"] == "BadGateway"


def test_streams_are_forwarded_chunk_by_chunk(proxy: tuple[int, Path]) -> None:
    port, live = proxy
    with ThreadServer(backend("a"), free_port()) as a:
        point(live, a.port, 3)
        arrivals = []
        t0 = time.monotonic()
        with httpx.stream("GET", f"http://127.0.0.1:{port}/stream") as r:
            assert r.headers["content-type"] == "text/event-stream"
            for chunk in r.iter_raw():
                if chunk.strip():
                    arrivals.append((time.monotonic() - t0, chunk))
        assert [c for _, c in arrivals] == [f"data: a-{i}\n\n".encode() for i in range(3)]
        assert arrivals[0][0] < 0.35, "the first event must arrive before the stream ends (no buffering)"
        assert arrivals[-1][0] > 0.7


def test_websocket_is_piped(proxy: tuple[int, Path]) -> None:
    from websockets.sync.client import connect

    port, live = proxy
    with ThreadServer(backend("a"), free_port()) as a:
        point(live, a.port, 1)
        with connect(f"ws://127.0.0.1:{port}/ws/stream") as ws:
            ws.send("hello")
            assert ws.recv(timeout=5) == "a:hello"
            ws.send("again")
            assert ws.recv(timeout=5) == "a:again"


def test_proxy_refuses_a_port_someone_else_holds(tmp_path: Path) -> None:
    from agentdock.errors import DeployError

    with (
        ThreadServer(backend("squatter"), free_port()) as squatter,
        pytest.raises(DeployError, match="in use by another"),
    ):
        ensure_proxy(tmp_path / "p", tmp_path / "p" / "live.json", squatter.port)
