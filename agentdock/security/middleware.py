"""HTTP hardening around the runtime app: ``install_hardening(app, spec)``.

Pure ASGI middleware (``BaseHTTPMiddleware`` would add a task and memory streams per request
and break streaming back-pressure). From the outside in:

1. ``SecurityHeadersMiddleware``: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options:
   DENY``, ``Referrer-Policy: no-referrer``, ``Strict-Transport-Security``, ``Cache-Control:
   no-store`` and a CSP that allows nothing (``default-src 'none'``) on every API response.
   Only the docs pages (``/docs``, ``/redoc``, or the app's ``docs_url``/``redoc_url``) get a CSP
   that lets Swagger UI / ReDoc load their assets from cdn.jsdelivr.net and run their inline
   bootstrap script. A header the app already set is kept.
2. ``CORSMiddleware`` (Starlette's, pure ASGI) exactly from ``expose.cors``: those origins and
   methods, never credentials (the API authenticates with headers, not cookies), and no CORS
   headers at all when ``expose.cors`` is unset. Responses expose the trace id, rate-limit
   headers and ``Location``/``Content-Location`` (LangGraph clients find their run there).
3. ``BodyGuardMiddleware``: request bodies over ``arguments.max_body_bytes`` (default 1 MiB)
   get 413 ``PayloadTooLarge`` - at once from ``Content-Length``, else while reading - and JSON
   nested deeper than ``arguments.max_json_depth`` (default 32) gets 400 ``BadRequest``, before
   any parser or route sees the body. Errors use the JSON envelope with the request's trace id.
"""

from __future__ import annotations

import json
import re
import uuid
from itertools import accumulate
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentdock.cors import ALLOW_HEADERS, EXPOSE_HEADERS
from agentdock.errors import BadRequest, HTTPError, InvalidSchemaError, PayloadTooLarge
from agentdock.spec.models import DockSpec

DEFAULT_MAX_BODY_BYTES = 1 << 20
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
DEFAULT_MAX_JSON_DEPTH = 32

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cache-control", b"no-store"),
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_TRACE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.docs_paths = docs_paths
        self._api = (*_COMMON, (b"content-security-policy", API_CSP.encode()))
        self._docs = (*_COMMON, (b"content-security-policy", DOCS_CSP.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._docs if scope["path"] in self.docs_paths else self._api

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, chunked = _body_headers(scope)
        if length is None and not chunked and scope["method"] not in _BODY_METHODS:
            # no body announced (a GET): nothing to guard, no buffering
            await self.app(scope, receive, send)
            return
        if length is not None and length > self.max_body_bytes:
            await _reject(self._too_large(), scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away while sending
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _reject(self._too_large(), scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_too_deep(body, self.max_json_depth):
            error = BadRequest(f"JSON nesting is deeper than {self.max_json_depth} levels", path="body")
            await _reject(error, scope, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"request body exceeds the limit of {self.max_body_bytes} bytes (arguments.max_body_bytes)",
            path="arguments.max_body_bytes",
        )


def _body_headers(scope: Scope) -> tuple[int | None, bool]:
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = 1 << 62  # unparseable: treat as too large rather than trust it
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_too_deep(body: bytes, max_depth: int) -> bool:
    """True when the brackets of ``body`` (outside strings) nest deeper than ``max_depth``.
    Counts without parsing; a body with few brackets is cleared without a scan."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    structural = _JSON_STRING.sub(b"", body) if b'"' in body else body
    brackets = structural.translate(None, _NOT_BRACKETS)
    return bool(brackets) and max(accumulate(map(_STEP.__getitem__, brackets))) > max_depth


def _trace_id(scope: Scope) -> tuple[str, bool]:
    """The request's trace id, and whether this middleware must send the ``x-trace-id`` header
    itself: when the runtime's middleware set ``state["trace_id"]`` it also sends the header."""
    state = scope.setdefault("state", {})
    trace_id = state.get("trace_id")
    if trace_id is not None:
        return str(trace_id), False
    for name, value in scope["headers"]:
        if name == b"x-trace-id" and _TRACE_ID.match(value.decode("latin-1")):
            trace_id = value.decode("latin-1")
            break
    else:
        trace_id = uuid.uuid4().hex
    state["trace_id"] = trace_id
    return trace_id, True


async def _reject(error: HTTPError, scope: Scope, send: Send) -> None:
    trace_id, send_header = _trace_id(scope)
    scope["state"]["error"] = error.name
    body = json.dumps(error.envelope(trace_id)).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the unread rest of the body must not be parsed as a request
    ]
    if send_header:
        headers.append((b"x-trace-id", trace_id.encode()))
    await send({"type": "http.response.start", "status": error.code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _positive_int(spec: DockSpec, name: str, default: int) -> int:
    value: Any = spec.arguments.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidSchemaError(f"arguments.{name}", f"must be a positive integer, got {value!r}")
    return value


def install_hardening(app: FastAPI, spec: DockSpec) -> None:
    """Add the three layers above to ``app`` (call before the app starts serving)."""
    app.add_middleware(
        BodyGuardMiddleware,
        max_body_bytes=_positive_int(spec, "max_body_bytes", DEFAULT_MAX_BODY_BYTES),
        max_json_depth=_positive_int(spec, "max_json_depth", DEFAULT_MAX_JSON_DEPTH),
    )
    cors = spec.expose.cors
    if cors is not None and cors.origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors.origins),
            allow_methods=list(cors.methods),
            allow_headers=list(ALLOW_HEADERS),
            expose_headers=list(EXPOSE_HEADERS),
            allow_credentials=False,
            max_age=600,
        )
    # The runtime serves the docs pages itself (FastAPI's docs_url off); an app that lets FastAPI
    # serve them is covered too.
    docs = {*DOCS_PATHS, app.docs_url, app.redoc_url}
    if app.docs_url:
        docs.add(app.swagger_ui_oauth2_redirect_url)
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=frozenset(p for p in docs if p))
