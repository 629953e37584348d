"""How AgentDock runs uvicorn itself (``agentdock serve``, the local front proxy): with limits.

uvicorn's httptools protocol has no cap on the size of a request head and no deadline for
receiving a request: a client can send headers forever (memory) or one byte a minute
(slowloris: a connection, a task and a file descriptor held indefinitely). ``GuardedProtocol``
adds both, per request:

* the request head (request line + headers) is capped at ``max_header_bytes`` (64 KiB): past it
  the client gets ``431 Request Header Fields Too Large`` and the connection closes;
* a request must be received completely (head and body) within ``request_timeout_s`` (30 s) of
  its first byte, or of the connection opening: else ``408 Request Timeout`` (or a plain close
  once a response has started). Responses themselves (SSE streams) are not limited by this.

``server_options(...)`` gives the matching ``uvicorn.run`` keyword arguments: this protocol,
``ws_max_size`` = the body limit (uvicorn's default lets 16 MiB WebSocket messages through a
1 MiB body limit), a short keep-alive, and no access log (query strings carry user input).

``agentdock serve`` calls ``host.freeze_startup_heap()`` once the app and its graph are built,
just before serving.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from agentdock.runtime.arguments import DEFAULT_MAX_BODY_BYTES, body_limit

__all__ = ["GuardedProtocol", "body_limit", "guarded_protocol", "server_options"]

DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_REQUEST_TIMEOUT_S = 30.0


class GuardedProtocol(HttpToolsProtocol):
    max_header_bytes = DEFAULT_MAX_HEADER_BYTES
    request_timeout_s = DEFAULT_REQUEST_TIMEOUT_S

    _deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0  # raw bytes received while the head is incomplete
    _head_parsed = 0  # bytes of the request line and headers, as parsed
    _head_too_large = False
    _in_head = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None:  # the first bytes of a keep-alive connection's next request
            self._arm()
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Checked after parsing: a chunk that completes the head (and carries body bytes) is fine.
        if self._in_head and self._head_bytes > self.max_header_bytes and not self.transport.is_closing():
            self._refuse(431, "request header fields too large")

    def on_url(self, url: bytes) -> None:
        self._head_parsed += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_parsed += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_parsed > self.max_header_bytes:
            # raised through the parser; uvicorn answers its parser errors with send_400_response
            self._head_too_large = True
            raise ValueError("request head too large")
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse(431, "request header fields too large")
        else:
            super().send_400_response(msg)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket protocol takes over the transport (its own ping timeouts)
        super().handle_websocket_upgrade()

    def _arm(self) -> None:
        self._disarm()
        self._in_head, self._head_bytes, self._head_parsed = True, 0, 0
        self._deadline = self.loop.call_later(self.request_timeout_s, self._on_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self._refuse(408, "request not received in time")
        else:
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        self._disarm()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        body = json.dumps({"error": _NAMES[status], "code": status, "detail": message}).encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, _NAMES[status].encode(), len(body), body)
        )
        self.transport.close()


_NAMES = {408: "RequestTimeout", 431: "RequestHeaderFieldsTooLarge"}


def guarded_protocol(max_header_bytes: int, request_timeout_s: float) -> type[GuardedProtocol]:
    """A ``GuardedProtocol`` subclass with these limits (uvicorn takes a class, not an instance).
    The defaults give the module-level class itself, which pickles by name (``--reload`` spawns)."""
    if (max_header_bytes, request_timeout_s) == (DEFAULT_MAX_HEADER_BYTES, DEFAULT_REQUEST_TIMEOUT_S):
        return GuardedProtocol
    return type(
        "GuardedProtocol",
        (GuardedProtocol,),
        {"max_header_bytes": max_header_bytes, "request_timeout_s": request_timeout_s},
    )


def server_options(
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
) -> dict[str, Any]:
    """``uvicorn.run``/``uvicorn.Config`` keyword arguments with the limits above."""
    return {
        "http": guarded_protocol(max_header_bytes, request_timeout_s),
        "ws_max_size": max_body_bytes,
        "timeout_keep_alive": 5,
        "access_log": False,
        "server_header": False,
    }
