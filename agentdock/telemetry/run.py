"""What one run did, recorded cheaply on the request path and exported later, off it.

The middleware opens a ``RunRecord`` for each /invoke, /stream and /ws/stream request (only
when a trace backend is on) and makes it current (a contextvar, so the pipeline, the policy
hook and the LangChain callbacks reach it without new parameters). Recording appends tuples;
everything costly (redaction of tool data, cost, building spans, export) happens in the
telemetry worker thread after the response.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Step:
    """A node, tool or generation (model call) of a run; times are ``time.time_ns()``."""

    kind: str  # node | tool | generation
    name: str
    start_ns: int
    end_ns: int = 0
    input: Any = None
    output: Any = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    denied: bool = False
    error: str | None = None


@dataclass(slots=True)
class RunRecord:
    trace_id: str
    route: str
    method: str
    sampled: bool = True  # False: metrics and EMF only, no trace (sample rate)
    start_ns: int = field(default_factory=time.time_ns)
    end_ns: int = 0
    subject: str | None = None
    role: str | None = None
    input: Any = None
    output: Any = None
    status: int = 0
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None
    runs: int = 0  # WebSocket connection: runs started on it (each is a trace of its own)
    steps: list[Step] = field(default_factory=list)
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def caller(self, principal: Any) -> None:
        """``runtime.stages.Principal``: id (key id or JWT sub), role, kind."""
        self.subject = f"{principal.kind}:{principal.id}"
        self.role = principal.role

    def event(self, name: str, **detail: Any) -> None:
        self.events.append((time.time_ns(), name, detail))

    def denied_tool(self, name: str, args: Any) -> None:
        now = time.time_ns()
        self.steps.append(Step("tool", name, now, now, input=args, denied=True, error="ToolDenied"))


def ws_run(connection: RunRecord, ctx: Any) -> RunRecord:
    """The record of one run on a WebSocket connection: the first run keeps the connection's
    trace id (the ``x-trace-id`` of the handshake), later ones get fresh ids, which ``ctx``
    carries to the run's ``start`` and ``error`` events."""
    from agentdock.telemetry.tracing import new_trace_id

    connection.runs += 1
    if connection.runs > 1:
        ctx.trace_id = new_trace_id()
    run = RunRecord(ctx.trace_id, connection.route, "WS", connection.sampled)
    run.subject, run.role, run.input = connection.subject, connection.role, connection.input
    connection.input = None
    return run


CURRENT: ContextVar[RunRecord | None] = ContextVar("agentdock_run", default=None)


current_run = CURRENT.get
