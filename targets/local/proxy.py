"""The local target's front proxy: a small ASGI reverse proxy bound to the agent's stable port.

It forwards every request to the live version's side port, read from ``live.json``
(``{"port": N, "version": V}``). The file is re-read whenever it changes (a ``stat`` per request,
no polling delay), so moving the live pointer is one atomic rewrite of that file and the very
next request goes to the new version, also on a kept-alive client connection. Responses are
streamed chunk by chunk (SSE stays incremental); WebSockets are piped both ways.

Run: ``python -m agentdock.targets.local.proxy --port 8080 --live-file .../live.json``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

Scope = dict[str, Any]
Receive = Any
Send = Any

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
VERSION_HEADER = b"x-agentdock-version"


class LiveFile:
    """The live backend, cached until the file's identity (inode, mtime, size) changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._value: tuple[int, int | None] | None = None

    def get(self) -> tuple[int, int | None] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            self._stamp, self._value = None, None
            return None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                data = json.loads(self.path.read_text())
                self._value = (int(data["port"]), data.get("version"))
            except (OSError, ValueError, KeyError, TypeError):
                self._value = None
            self._stamp = stamp
        return self._value


class ClientGone(Exception):
    pass


class Proxy:
    def __init__(self, live_file: Path) -> None:
        self.live = LiveFile(live_file)
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
                timeout = httpx.Timeout(connect=5.0, read=None, write=None, pool=None)
                self.client = httpx.AsyncClient(limits=limits, timeout=timeout, follow_redirects=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _error(send: Send, status: int, name: str, detail: str) -> None:
        body = json.dumps(
            {"error": name, "code": status, "detail": detail, "trace_id": uuid.uuid4().hex}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _forward_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = [
            (k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP and k.lower() != b"host"
        ]
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", str(client[0]).encode()))
        headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        host = dict(scope["headers"]).get(b"host")
        if host:
            headers.append((b"x-forwarded-host", host))
        return headers

    @staticmethod
    def _target_path(scope: Scope) -> str:
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        return path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        live = self.live.get()
        if live is None or self.client is None:
            await self._error(send, 503, "NotReady", "no live version: run `agentdock deploy`")
            return
        port, version = live

        async def body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone()
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    return

        names = {k.lower() for k, _ in scope["headers"]}
        has_body = b"content-length" in names or b"transfer-encoding" in names
        request = self.client.build_request(
            scope["method"],
            f"http://127.0.0.1:{port}{self._target_path(scope)}",
            headers=self._forward_headers(scope),
            content=body() if has_body else None,
        )
        try:
            response = await self.client.send(request, stream=True)
        except ClientGone:
            return
        except httpx.HTTPError as exc:
            await self._error(
                send, 502, "BadGateway", f"live version v{version} on port {port} did not answer: {exc}"
            )
            return
        try:
            await self._relay(response, version, receive, send)
        finally:
            await response.aclose()

    async def _relay(
        self, response: httpx.Response, version: int | None, receive: Receive, send: Send
    ) -> None:
        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP]
        if version is not None:
            headers.append((VERSION_HEADER, str(version).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})

        async def pump() -> None:
            async for chunk in response.aiter_raw():
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def watch() -> None:  # the request body is consumed: the next message is a disconnect
            while (await receive())["type"] != "http.disconnect":
                pass

        pump_task, watch_task = asyncio.ensure_future(pump()), asyncio.ensure_future(watch())
        done, pending = await asyncio.wait({pump_task, watch_task}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for task in done:
            if task is pump_task and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        live = self.live.get()
        if live is None:
            await send({"type": "websocket.close", "code": 1013})
            return
        try:
            from websockets.asyncio.client import connect
        except ImportError:
            await send({"type": "websocket.close", "code": 1011})
            return
        port, _ = live
        url = f"ws://127.0.0.1:{port}{self._target_path(scope)}"
        keep = {b"authorization", b"x-api-key", b"cookie", b"origin", b"user-agent"}
        headers = [(k.decode(), v.decode("latin-1")) for k, v in scope["headers"] if k.lower() in keep]
        protocols = scope.get("subprotocols") or None
        await receive()  # websocket.connect
        try:
            upstream = await connect(url, additional_headers=headers, subprotocols=protocols, open_timeout=5)
        except Exception:
            await send({"type": "websocket.close", "code": 1011})
            return
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})

        async def client_to_backend() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                data = message.get("text") if message.get("text") is not None else message.get("bytes")
                if data is not None:
                    await upstream.send(data)

        async def backend_to_client() -> None:
            async for data in upstream:
                key = "text" if isinstance(data, str) else "bytes"
                await send({"type": "websocket.send", key: data})
            code = upstream.close_code or 1000
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": code})

        tasks = {asyncio.ensure_future(client_to_backend()), asyncio.ensure_future(backend_to_client())}
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await upstream.close()


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="AgentDock local front proxy (stable port -> live version).")
    parser.add_argument("--port", type=int, required=True, help="Stable port to listen on (127.0.0.1).")
    parser.add_argument("--live-file", type=Path, required=True, help="JSON file naming the live side port.")
    args = parser.parse_args(argv)
    from agentdock.runtime.server import server_options

    uvicorn.run(
        Proxy(args.live_file),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="on",
        date_header=False,
        timeout_graceful_shutdown=5,
        # head size cap, slow-request deadline, no access log (the version behind applies the
        # Dockfile's body limit; the proxy caps WebSocket messages at the default 1 MiB)
        **server_options(),
    )


if __name__ == "__main__":
    main()
