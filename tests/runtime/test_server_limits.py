"""The limits AgentDock puts on uvicorn (``agentdock serve``, the local front proxy): a capped
request head (431), a deadline for receiving a request (408), WebSocket messages no larger than
the body limit, and a busy port reported before any success line. Issue 17: none existed."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from rthelpers import free_port

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def hello(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "websocket":
        await receive()  # type: ignore[operator]
        await send({"type": "websocket.accept"})  # type: ignore[operator]
        message = await receive()  # type: ignore[operator]
        await send({"type": "websocket.send", "text": str(len(message.get("text") or ""))})  # type: ignore[operator]
        return
    while True:
        message = await receive()  # type: ignore[operator]
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


@pytest.fixture
def server() -> Iterator[int]:
    from agentdock.runtime.server import server_options

    port = free_port()
    options = server_options(max_body_bytes=1000, max_header_bytes=4096, request_timeout_s=0.5)
    config = uvicorn.Config(hello, host="127.0.0.1", port=port, log_level="error", lifespan="off", **options)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    yield port
    srv.should_exit = True
    thread.join(10)


def exchange(port: int, data: bytes, *, wait_s: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_a_normal_request_passes(server: int) -> None:
    reply = exchange(server, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200") and b"\r\nok\r\n" in reply


def test_a_huge_request_head_gets_431(server: int) -> None:
    head = b"GET / HTTP/1.1\r\nhost: x\r\n" + b"x-pad: " + b"a" * 20000 + b"\r\n\r\n"
    reply = exchange(server, head)
    assert reply.startswith(b"HTTP/1.1 431"), reply[:80]


def test_a_slow_request_gets_408_and_the_connection_closes(server: int) -> None:
    started = time.monotonic()
    reply = exchange(server, b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nab")
    assert reply.startswith(b"HTTP/1.1 408"), reply[:80]
    assert time.monotonic() - started < 4
    # an idle connection that never sends a byte is closed too
    started = time.monotonic()
    assert exchange(server, b"").startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 4


def test_websocket_messages_are_capped_at_the_body_limit(server: int) -> None:
    import websockets

    async def main() -> tuple[str, int | None]:
        async with websockets.connect(f"ws://127.0.0.1:{server}/") as ws:
            await ws.send("a" * 500)
            small = await ws.recv()
        async with websockets.connect(f"ws://127.0.0.1:{server}/") as ws:
            await ws.send("a" * 5000)
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
            return str(small), info.value.rcvd.code if info.value.rcvd else None

    small, code = asyncio.run(main())
    assert small == "500" and code == 1009  # message too big


def test_serve_on_a_busy_port_is_a_clear_error_without_a_success_line(tmp_path: Path) -> None:
    from test_serve_cmd import _cli, _env

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        dockfile = str(EXAMPLES / "doc_summarizer" / "Dockfile.yaml")
        result = _cli("serve", dockfile, "--port", str(port), env=_env(tmp_path))
    assert result.returncode == 2
    assert "✓" not in result.stdout and "port is in use" in result.stderr
