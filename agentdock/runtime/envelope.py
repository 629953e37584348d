"""The error envelope, for every non-2xx response the runtime sends.

``{"error": <name>, "code": <status>, "detail": <one-line cause>, "trace_id": <id>}`` plus
``fields`` on a 422. FastAPI's own validation errors, Starlette's 404/405, errors raised by
security middleware and any unexpected exception all leave through here, so a client parses
one shape and never sees a stack trace or raw exception text.

The per-request trace id lives in ``scope["state"]["trace_id"]`` (``request.state.trace_id``),
set by the outermost middleware; ``scope["state"]["error"]`` records the envelope name so the
request log line and the error counter name the same type.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pydantic_core
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope, Send

from agentdock.errors import HTTPError
from agentdock.telemetry.tracing import new_trace_id

JSON = "application/json"

# Names for statuses Starlette raises itself (routing, method matching).
_STATUS_NAMES = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge", 422: "ValidationError"}


def trace_id_of(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    trace_id = state.get("trace_id")
    if trace_id is None:
        trace_id = state["trace_id"] = new_trace_id()
    return str(trace_id)


def status_name(status: int) -> str:
    if status in _STATUS_NAMES:
        return _STATUS_NAMES[status]
    try:
        return "".join(word.capitalize() for word in HTTPStatus(status).phrase.split())
    except ValueError:
        return "Error"


def envelope(name: str, code: int, detail: str, trace_id: str, **extra: Any) -> dict[str, Any]:
    return {"error": name, "code": code, "detail": detail, "trace_id": trace_id, **extra}


def error_response(exc: HTTPError, scope: Scope) -> Response:
    """The response for an AgentDock HTTP error (its status, envelope and headers)."""
    trace_id = trace_id_of(scope)
    state = scope["state"]
    state["error"] = exc.name
    if exc.__cause__ is not None and not isinstance(exc.__cause__, HTTPError):
        state["cause"] = type(exc.__cause__).__name__  # the type only: messages can carry secrets
    body = pydantic_core.to_json(exc.envelope(trace_id))
    return Response(body, status_code=exc.code, headers=exc.headers or None, media_type=JSON)


def plain_error_response(
    status: int, detail: str, scope: Scope, headers: dict[str, str] | None = None
) -> Response:
    trace_id = trace_id_of(scope)
    name = status_name(status)
    scope["state"]["error"] = name
    body = pydantic_core.to_json(envelope(name, status, detail, trace_id))
    return Response(body, status_code=status, headers=headers, media_type=JSON)


async def send_error(send: Send, scope: Scope, exc: HTTPError | None) -> None:
    """Send an envelope over raw ASGI (used where no Response object is at hand)."""
    response = (
        error_response(exc, scope)
        if exc is not None
        else plain_error_response(500, "internal error; quote the trace_id when reporting it", scope)
    )
    await response(scope, _no_receive, send)


async def _no_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPError)
    return error_response(exc, request.scope)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    trace_id = trace_id_of(request.scope)
    request.scope["state"]["error"] = "ValidationError"
    body = envelope("ValidationError", 422, "the request does not match the schema", trace_id, fields=fields)
    return Response(pydantic_core.to_json(body), status_code=422, media_type=JSON)


async def _on_starlette_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else status_name(exc.status_code)
    if exc.status_code == 404:
        detail = f"no route {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return plain_error_response(exc.status_code, detail, request.scope, headers=dict(exc.headers or {}))


def install_exception_handlers(app: FastAPI) -> None:
    """Route every error FastAPI/Starlette handles through the envelope."""
    app.add_exception_handler(HTTPError, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_starlette_http)
