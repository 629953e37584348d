"""The console's web app: static assets from the package (no CDN, no build step), the JSON API
of ``routes.py``, strict security headers, and the runtime's error envelope for every error."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentdock.dashboard.auth import Sessions
from agentdock.dashboard.routes import router
from agentdock.errors import (
    AgentDockError,
    DeployConflict,
    DeployError,
    RecordNotFound,
    StoreError,
)
from agentdock.runtime.envelope import install_exception_handlers, plain_error_response
from agentdock.store.base import MetadataStore

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class Bus:
    """Fan-out of progress events to every open ``/api/events`` stream (thread-safe publish:
    rollbacks run in the thread pool)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=256)
        self.loop = asyncio.get_running_loop()
        with self._lock:
            self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._queues.discard(queue)

    def publish(self, item: dict[str, Any]) -> None:
        with self._lock:
            queues = list(self._queues)
        for queue in queues:
            if self.loop is not None:
                self.loop.call_soon_threadsafe(_offer, queue, item)


def _offer(queue: asyncio.Queue[dict[str, Any]], item: dict[str, Any]) -> None:
    if not queue.full():
        queue.put_nowait(item)


@dataclass
class ConsoleState:
    store: MetadataStore
    sessions: Sessions = field(default_factory=Sessions)
    bus: Bus = field(default_factory=Bus)
    http: Any = None


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = list(message.get("headers") or []) + SECURITY_HEADERS
        await send(message)

    return wrapped


class GuardMiddleware:
    """Security headers on every response; a state-changing request from another origin is
    refused before it reaches a route (the CSRF token is the second check)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode()
        host = headers.get(b"host", b"").decode()
        if (
            scope["method"] in STATE_CHANGING
            and origin
            and origin not in (f"http://{host}", f"https://{host}")
        ):
            response = plain_error_response(403, f"cross-origin request from {origin} refused", scope)
            await response(scope, receive, _with_headers(send))
            return
        await self.app(scope, receive, _with_headers(send))


_LIBRARY_STATUS: list[tuple[type[AgentDockError], int]] = [
    (RecordNotFound, 404),
    (DeployConflict, 409),
    (DeployError, 409),
    (StoreError, 503),
]


async def _on_library_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AgentDockError)
    status = next((code for kind, code in _LIBRARY_STATUS if isinstance(exc, kind)), 400)
    detail = exc.cause + (f" (fix: {exc.hint})" if exc.hint else "")
    return plain_error_response(status, detail, request.scope)


def _static(name: str) -> Any:
    return resources.files("agentdock.dashboard") / "static" / name


def create_dashboard(store: MetadataStore) -> FastAPI:
    """The console app over ``store`` (the store the agents' deploys write)."""
    import httpx

    state = ConsoleState(store=store)
    app = FastAPI(title="AgentDock console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = state

    @app.on_event("startup")
    async def _open() -> None:
        state.http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))

    @app.on_event("shutdown")
    async def _close() -> None:
        if state.http is not None:
            await state.http.aclose()

    app.include_router(router)
    install_exception_handlers(app)
    # Starlette picks the handler of the nearest class in the exception's MRO, so HTTPError keeps
    # its envelope handler and only the library's other errors land here.
    app.add_exception_handler(AgentDockError, _on_library_error)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(str(_static("index.html")), headers={"cache-control": "no-store"})

    @app.get("/static/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in ("app.js", "app.css", "favicon.svg"):
            return plain_error_response(404, f"no asset {name}", {"type": "http", "state": {}})
        return FileResponse(str(_static(name)), headers={"cache-control": "no-cache"})

    app.add_middleware(GuardMiddleware)
    return app
