"""The outermost middleware: trace id, x-trace-id, rate-limit headers, metrics, the log line.

Pure ASGI (not ``BaseHTTPMiddleware``, which wraps every request in extra tasks and memory
streams and breaks streaming back-pressure). It sits outside the security middleware, so a
413 from the body-size limit still gets a trace id, a metric and a log line, and any
exception that escapes everything below becomes a 500 envelope instead of a stack trace.
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentdock.errors import HTTPError
from agentdock.runtime.envelope import send_error
from agentdock.telemetry.logs import LAMBDA_REQUEST_ID, RequestLog
from agentdock.telemetry.metrics import RuntimeMetrics
from agentdock.telemetry.run import CURRENT, RunRecord
from agentdock.telemetry.tracing import TRACE_ID, trace_id_from_scope_headers

UNMATCHED = "unmatched"


class RuntimeMiddleware:
    """Wraps the whole app; see the module docstring. ``routes`` are the paths that are their own
    label; a path matching one of ``templates`` (template, regex) is labelled by its template."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: RuntimeMetrics,
        log: RequestLog,
        routes: frozenset[str],
        templates: tuple[tuple[str, re.Pattern[str]], ...] = (),
        telemetry: Any = None,
        ledger: Any = None,
        cost_of: Any = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log
        self.routes = routes
        self.templates = templates
        self.telemetry = telemetry  # telemetry.hub.Telemetry, or None when no trace backend is on
        self.cost_of = cost_of  # (record, usage) -> USD or None
        self.ledger = ledger  # telemetry.ledger.Ledger (local aggregates) or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        trace_id = trace_id_from_scope_headers(scope["headers"])
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["trace_id"] = trace_id
        trace_token = TRACE_ID.set(trace_id)  # for agentdock.* log records (telemetry.logs)
        aws_context = scope.get("aws.context")  # Mangum (Lambda buffered flavour)
        if aws_context is not None:
            LAMBDA_REQUEST_ID.set(getattr(aws_context, "aws_request_id", None))
        telemetry = self.telemetry
        record: RunRecord | None = None
        if telemetry is not None and scope["path"] in telemetry.routes:
            record = telemetry.open(trace_id, scope["path"], scope.get("method", "WS"))
            run_token = CURRENT.set(record)
        trace_header = (b"x-trace-id", trace_id.encode())
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            mtype = message["type"]
            if mtype == "http.response.start" or mtype == "websocket.accept":
                status = message.get("status", 101)
                headers = list(message.get("headers") or ())
                # An inner layer that answered on its own (state["error"] set) may have added it.
                if "error" not in state or not any(name == b"x-trace-id" for name, _ in headers):
                    headers.append(trace_header)
                rate_headers = state.get("rate_headers")
                if rate_headers:
                    headers.extend(rate_headers)
                message = {**message, "headers": headers}
            elif mtype == "websocket.close" and status == 0:
                status = 403  # closed before the handshake completed: the server refused it
            await send(message)

        metrics = self.metrics
        metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # the last line of defence: never a stack trace to the client
            http_error = exc if isinstance(exc, HTTPError) else None
            if http_error is None:
                state["cause"] = type(exc).__name__
            if status == 0 and kind == "http":
                await send_error(send_wrapper, scope, http_error)
            else:
                state.setdefault("error", http_error.name if http_error else "InternalError")
        finally:
            metrics.in_flight.dec()
            self._record(scope, state, status, started, record)
            if record is not None:
                CURRENT.reset(run_token)
                if not record.runs:  # a WebSocket's runs were traced one by one
                    telemetry.finish(record)
                await telemetry.end_of_request(record)
            TRACE_ID.reset(trace_token)

    def _template(self, path: str) -> str:
        for template, regex in self.templates:
            if regex.match(path):
                return template
        return UNMATCHED

    def _record(
        self, scope: Scope, state: dict[str, Any], status: int, started: float, record: RunRecord | None
    ) -> None:
        elapsed = time.perf_counter() - started
        path = scope["path"]
        route = path if path in self.routes else self._template(path)
        method = scope.get("method", "WS")
        status = status or 500
        metrics = self.metrics
        metrics.observe_request(route, method, status, elapsed)
        error = state.get("error")
        if error is None and status >= 400:
            error = state["error"] = "InternalError" if status >= 500 else f"HTTP{status}"
        if error is not None:
            metrics.observe_error(error)
        usage = state.get("usage")
        cost = None
        if usage:
            metrics.observe_tokens(usage.get("input_tokens", 0), usage.get("output_tokens", 0))
            if self.cost_of is not None:
                cost = self.cost_of(record, usage)
                metrics.observe_cost(cost)
        if record is not None:
            # a streamed error keeps its own status (the HTTP status was 200 by then)
            record.status, record.usage = max(record.status, status), dict(usage or {})
            record.error = record.error or error
            record.cost_usd = cost
        if self.ledger is not None and route != UNMATCHED:
            self.ledger.observe(route, status, elapsed * 1000.0, usage, cost)
        self.log.request(
            trace_id=state["trace_id"],
            route=route,
            method=method,
            status=status,
            latency_ms=elapsed * 1000.0,
            tokens=usage,
            error=error,
            cause=state.get("cause"),
            cost_usd=cost,
        )
