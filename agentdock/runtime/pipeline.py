"""The request pipeline, stage by stage, shared by /invoke, /stream and /ws/stream:

    guard:   authenticate -> authorize(permission) -> rate limit      (stages.py protocols)
    prepare: input validation -> policy.pre
    run:     adapter.invoke / adapter.stream, with the in-flight tool hook (policy.on_tool_start),
             the run timeout (504, run cancelled) and retries of transient errors
    finish:  policy.post -> output validation                          (500 on mismatch)
    telemetry wraps all of it (middleware.py)

Routes call these methods and nothing else, so security swaps in through ``Components``
without a route changing. Everything that can be computed once (bound methods, settings,
the tool hook) is computed in ``__init__``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any

from starlette.requests import HTTPConnection

from agentdock.adapters.base import RunContext
from agentdock.errors import AgentError, AgentTimeout, HTTPError, ToolDenied
from agentdock.runtime.arguments import RunSettings, is_transient
from agentdock.runtime.components import Components
from agentdock.runtime.contract import IOContract
from agentdock.runtime.host import AgentHost
from agentdock.stages import PostResult, Principal
from agentdock.telemetry.metrics import RuntimeMetrics
from agentdock.telemetry.run import current_run

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


class StreamClosed(Exception):
    """Raised by an emitter when the client is gone: the run stops, nothing more is sent."""


TRUNCATED_REASON = "output exceeded policies.safety.max_output_chars"


class Pipeline:
    def __init__(
        self,
        components: Components,
        contract: IOContract,
        host: AgentHost,
        settings: RunSettings,
        metrics: RuntimeMetrics,
        traced: bool = False,
        record_steps: bool = False,
    ) -> None:
        self.contract = contract
        self.traced = traced  # telemetry is on: runs are recorded (telemetry.run)
        self.record_steps = record_steps  # a trace backend wants nodes, tools and model calls
        self.on_ws_run: Callable[[Any], None] | None = None  # telemetry: a WebSocket run ended
        self.host = host
        self.settings = settings
        self.metrics = metrics
        self._authenticate = components.authenticator.authenticate
        self._auth_ready = getattr(components.authenticator, "ready", None)
        self._authorize = components.authorizer.authorize
        self._hit = components.rate_limiter.hit
        self._policy = components.policy
        self.policy = components.policy  # the LangGraph API routes apply it to their own shapes
        self._pre = components.policy.pre
        self._post = components.policy.post
        self._on_tool_start = components.policy.on_tool_start
        # The policy engine reports each decision through ``on_event`` when it has one;
        # otherwise the runtime counts tool decisions itself around the hook.
        # Such an engine may also offer ``check_tool``, on_tool_start's synchronous twin: adapters
        # check a tool on a worker thread with it in place, without a round trip to the run's loop.
        self._check_tool: Callable[[str, dict[str, Any]], None] | None = None
        if hasattr(components.policy, "on_event"):
            components.policy.on_event = self._policy_event if traced else metrics.observe_policy
            self._tool_hook = self._on_tool_start  # type: ignore[method-assign]
            self._check_tool = getattr(components.policy, "check_tool", None)

    # --- guard ---------------------------------------------------------------------------

    async def guard(self, conn: HTTPConnection, permission: str) -> Principal:
        """Authenticate, authorize and count the caller; rate-limit headers go on the response."""
        principal = await self._authenticate(conn)
        record = current_run()
        if record is not None:
            record.caller(principal)
        self._authorize(principal, permission)
        await self.count(conn, principal)
        return principal

    async def dependencies_ready(self) -> bool:
        """What /ready asks besides the agent: can the authenticator reach its key store?"""
        return self._auth_ready is None or bool(await self._auth_ready())

    async def recheck(self, conn: HTTPConnection, permission: str) -> Principal:
        """Authenticate and authorize again without counting: a long-lived connection (WebSocket)
        calls it per message, so a revoked key or an expired token stops working mid-connection.
        Cheap: key records come from the resolver's TTL cache, tokens are verified locally."""
        principal = await self._authenticate(conn)
        self._authorize(principal, permission)
        return principal

    async def count(self, conn: HTTPConnection, principal: Principal) -> None:
        """One hit on the caller's rate limit (raises RateLimited, 429, when over)."""
        decision = await self._hit(principal)
        if decision is not None:
            conn.scope["state"]["rate_headers"] = [
                (name.lower().encode(), value.encode()) for name, value in decision.headers().items()
            ]

    # --- prepare -------------------------------------------------------------------------

    def prepare(self, data: Any, prefix: tuple[str | int, ...] = ("body",)) -> dict[str, Any]:
        """Validate parsed input, then apply the input policy (redaction, injection check)."""
        return _recorded_input(self._pre(self.contract.check_input(data, prefix)))

    def prepare_body(self, body: bytes) -> dict[str, Any]:
        return _recorded_input(self._pre(self.contract.parse_body(body)))

    def context(self, trace_id: str, state: dict[str, Any]) -> RunContext:
        ctx = RunContext(trace_id=trace_id, on_tool_start=self._tool_hook, check_tool=self._check_tool)
        state["usage"] = ctx.usage
        record = current_run() if self.record_steps else None
        if record is not None and record.sampled:
            from agentdock.telemetry.recorder import RunSteps

            ctx.steps = RunSteps(record)
        return ctx

    def _policy_event(self, event: Any) -> None:
        self.metrics.observe_policy(event)
        record = current_run()
        if record is not None:
            record.event(
                f"policy.{event.policy}.{event.action}",
                stage=event.stage,
                matches=event.matches,
                detail=event.detail,
            )
            if event.policy == "tools" and event.action == "denied":
                record.denied_tool(event.detail, None)

    def redact(self, value: Any) -> Any:
        """A value with the Dockfile's redact patterns applied (what telemetry may send). Called
        from the telemetry thread, so it uses the redactor itself: no policy event, no metric."""
        redactor = getattr(self._policy, "redactor", None)
        if redactor is None:  # another PolicyEngine: its output policy, events and all
            return self._post({"value": value}).output.get("value")
        if not redactor:
            return value
        from agentdock.policy.redaction import redact_tree

        return redact_tree(redactor, value, [0] * len(redactor.patterns))

    async def _tool_hook(self, name: str, args: dict[str, Any]) -> None:
        try:
            await self._on_tool_start(name, args)
        except ToolDenied:
            self.metrics.observe_tool(name, "denied")
            record = current_run()
            if record is not None:
                record.denied_tool(name, args)
            raise
        self.metrics.observe_tool(name, "allowed")

    # --- run -----------------------------------------------------------------------------

    async def invoke(self, payload: dict[str, Any], ctx: RunContext) -> tuple[dict[str, Any], PostResult]:
        """Run to completion under the timeout and return the validated output."""
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                raw = await self._invoke_with_retries(payload, ctx)
        except TimeoutError:
            raise AgentTimeout(f"the agent did not finish within {self.settings.timeout_s:g}s") from None
        return self.finish(raw)

    async def _invoke_with_retries(self, payload: dict[str, Any], ctx: RunContext) -> Any:
        agent = await self.host.get()
        adapter = self.host.adapter
        attempt = 0
        while True:
            try:
                return await adapter.invoke(agent, payload, ctx)
            except HTTPError:
                raise
            except Exception as exc:
                if attempt < self.settings.max_retries and is_transient(exc):
                    attempt += 1
                    await asyncio.sleep(self.settings.backoff(attempt))
                    continue
                raise _agent_error(exc) from exc

    def finish(self, raw: Any) -> tuple[dict[str, Any], PostResult]:
        """policy.post on the declared fields, then output validation."""
        post = self._post(self.contract.project(raw))
        output = self.contract.check_output(post.output)
        record = current_run()
        if record is not None:
            record.output = output
        return output, post

    # --- stream --------------------------------------------------------------------------

    async def stream(
        self,
        payload: dict[str, Any],
        ctx: RunContext,
        emit: Emit,
        state: dict[str, Any],
        run_id: str | None = None,
    ) -> None:
        """Run and emit start, token, update, tool, then end or error. Errors never raise:
        the response has started, so they travel as an ``error`` event (envelope data)."""
        connection = current_run()
        if connection is None or connection.route != "/ws/stream" or self.on_ws_run is None:
            await self._stream(payload, ctx, emit, state, run_id)
            return
        # A WebSocket carries many runs: each is its own trace (telemetry.run.ws_run).
        from agentdock.telemetry.run import CURRENT, ws_run

        run = ws_run(connection, ctx)
        if run.sampled and self.record_steps:
            from agentdock.telemetry.recorder import RunSteps

            ctx.steps = RunSteps(run)
        token = CURRENT.set(run)
        try:
            await self._stream(payload, ctx, emit, state)
        finally:
            CURRENT.reset(token)
            run.usage = dict(ctx.usage)
            self.on_ws_run(run)

    async def _stream(
        self,
        payload: dict[str, Any],
        ctx: RunContext,
        emit: Emit,
        state: dict[str, Any],
        run_id: str | None = None,
    ) -> None:
        await emit("start", {"run_id": run_id or os.urandom(16).hex(), "trace_id": ctx.trace_id})
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                if self.settings.enable_streaming:
                    end = await self._stream_with_retries(payload, ctx, emit)
                else:
                    output, post = self.finish(await self._invoke_with_retries(payload, ctx))
                    end = _end_data(output, post, ctx)
                await emit("end", end)
        except TimeoutError:
            exc: HTTPError = AgentTimeout(f"the agent did not finish within {self.settings.timeout_s:g}s")
            await self._emit_error(exc, ctx, emit, state)
        except HTTPError as http_error:
            await self._emit_error(http_error, ctx, emit, state)
        except StreamClosed:
            raise
        except Exception as other:  # emit failures are the transport's; anything else is the agent's
            await self._emit_error(_agent_error(other), ctx, emit, state)

    async def _emit_error(self, exc: HTTPError, ctx: RunContext, emit: Emit, state: dict[str, Any]) -> None:
        state["error"] = exc.name
        record = current_run()
        if record is not None:
            record.status, record.error = exc.status, exc.name
        cause = exc.__cause__ or exc.__context__
        if cause is not None and not isinstance(cause, HTTPError | TimeoutError):
            state["cause"] = type(cause).__name__
        await emit("error", exc.envelope(ctx.trace_id))

    def _tool_event(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """A ``tool`` event; args and output go through the output policy first: tool results
        (database rows, API answers) are exactly where redacted values come from."""
        field = "args" if kind == "tool_start" else "output"
        redacted = self._post({field: data.get(field)}).output
        return {
            "phase": "start" if kind == "tool_start" else "end",
            "name": data.get("name"),
            field: redacted.get(field),
        }

    async def _stream_with_retries(
        self, payload: dict[str, Any], ctx: RunContext, emit: Emit
    ) -> dict[str, Any]:
        agent = await self.host.get()
        attempt = 0
        while True:
            progress = [False]
            try:
                return await self._stream_once(agent, payload, ctx, emit, progress)
            except (HTTPError, StreamClosed):
                raise
            except Exception as exc:
                # Retry only while nothing reached the client: a re-run would repeat tokens.
                if not progress[0] and attempt < self.settings.max_retries and is_transient(exc):
                    attempt += 1
                    await asyncio.sleep(self.settings.backoff(attempt))
                    continue
                raise _agent_error(exc) from exc

    async def _stream_once(
        self, agent: Any, payload: dict[str, Any], ctx: RunContext, emit: Emit, progress: list[bool]
    ) -> dict[str, Any]:
        token_filter = self._policy.token_filter()
        feed = token_filter.feed
        output: Any = None
        finished = False
        async with aclosing(self.host.adapter.stream(agent, payload, ctx)) as events:  # type: ignore[type-var]
            async for event in events:
                kind = event.type
                if kind == "token":
                    text = feed(event.data.get("text", ""))
                    if text:
                        progress[0] = True
                        await emit("token", {"text": text})
                    if token_filter.truncated:
                        break  # aclosing() stops the run; the end event says why
                elif kind == "update":
                    progress[0] = True
                    await emit(
                        "update", {"node": event.data.get("node"), "keys": list(event.data.get("keys") or ())}
                    )
                elif kind == "tool_start" or kind == "tool_end":
                    progress[0] = True
                    await emit("tool", self._tool_event(kind, event.data))
                elif kind == "end":
                    output, finished = event.data.get("output"), True
                    break
                elif kind == "error":
                    raise AgentError("the agent reported an error; quote the trace_id")
        rest = token_filter.flush()
        if rest:
            await emit("token", {"text": rest})
        if token_filter.truncated:
            return {"output": None, "usage": dict(ctx.usage), "truncated": True, "reason": TRUNCATED_REASON}
        if not finished:
            raise AgentError("the agent's stream ended without a result")
        out, post = self.finish(output)
        return _end_data(out, post, ctx)


def _recorded_input(payload: dict[str, Any]) -> dict[str, Any]:
    """The input as the input policy left it is what a trace shows."""
    record = current_run()
    if record is not None:
        record.input = payload
    return payload


def _agent_error(exc: BaseException) -> AgentError:
    """A 500 that names nothing of the cause (logged as ``cause`` from ``__cause__``)."""
    error = AgentError("the agent failed; quote the trace_id when reporting it")
    error.__cause__ = exc
    return error


def _end_data(output: dict[str, Any], post: PostResult, ctx: RunContext) -> dict[str, Any]:
    data: dict[str, Any] = {"output": output, "usage": dict(ctx.usage), "truncated": post.truncated}
    if post.truncated:
        data["reason"] = TRUNCATED_REASON
    return data
