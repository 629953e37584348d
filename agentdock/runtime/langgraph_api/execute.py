"""Run a graph for the LangGraph API: stream modes in, SSE events out, policies on the way.

One run = ``graph.astream`` (``astream_events`` when ``events`` is asked for) under the same
per-run callbacks as ``/invoke`` (``adapters.callbacks.gated_run``: every tool is checked by
``policy.on_tool_start`` before its body runs), the Dockfile's run timeout, and output policy
on everything that leaves: message text through the stream token filter (patterns split
across chunks are still caught), every other payload (values, updates, custom, events, tool
calls, metadata) through ``policy.redact``.

Events, as the reference server sends them: ``metadata {run_id, attempt}`` first; then per
requested mode ``values``, ``updates``, ``custom``, ``debug``, ``events``, ``messages``
(``messages-tuple``: ``[message, metadata]``) or ``messages/metadata`` +
``messages/partial`` (``messages``); an interrupt arrives inside the ``values`` event (key
``__interrupt__``) and as an ``updates`` event; a failure as ``error {error, message}``. A run
that stops at an interrupt succeeded (the thread is ``interrupted``); a cancelled one is
``interrupted``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessageChunk

from agentdock.adapters.base import RunContext
from agentdock.adapters.callbacks import gated_run
from agentdock.errors import AgentTimeout, HTTPError
from agentdock.runtime.langgraph_api.registry import RunRecord
from agentdock.runtime.langgraph_api.wire import jsonable

if TYPE_CHECKING:  # annotations only (the protocols' module moves on main: agentdock.stages)
    from agentdock.stages import PolicyEngine, TokenFilter

FAILED_MESSAGE = "the agent failed; quote the trace_id when reporting it"


class RunStreamer:
    """Turns one run's LangGraph stream into redacted SSE events on ``run``."""

    def __init__(self, run: RunRecord, modes: list[str], policy: PolicyEngine) -> None:
        self.run = run
        self.modes = set(modes)
        self.policy = policy
        redact = getattr(policy, "redact", None)
        self._redact: Callable[[Any], Any] = redact or (lambda v: policy.post({"v": v}).output["v"])
        # With nothing to redact, payloads go out as they are (serialised once, on append).
        self._pass = redact is not None and not getattr(policy, "redactor", True)
        self.values: Any = None
        self.interrupts: list[Any] = []
        self._filters: dict[str, TokenFilter] = {}
        self._partial: dict[str, dict[str, Any]] = {}

    def lg_modes(self) -> list[str]:
        """The LangGraph stream modes needed for what the client asked for."""
        modes = {"values", "updates"}
        if self.modes & {"messages", "messages-tuple"}:
            modes.add("messages")
        modes |= self.modes & {"custom", "debug"}
        return sorted(modes)

    def emit(self, event: str, data: Any) -> None:
        self.run.append(event, data)

    def clean(self, value: Any) -> Any:
        """``value`` as the client may see it: JSON data through the output policy."""
        return value if self._pass else self._redact(jsonable(value))

    def chunk(self, mode: str, chunk: Any) -> None:
        if mode == "values":
            self.values = chunk
            if "values" in self.modes:
                self.emit("values", self.clean(chunk))
        elif mode == "updates":
            found = chunk.get("__interrupt__") if isinstance(chunk, dict) else None
            if found:
                self.interrupts.extend(jsonable(list(found)))
            if "updates" in self.modes:
                self.emit("updates", self.clean(chunk))
        elif mode == "messages":
            self._message(*chunk)
        elif mode in self.modes:
            self.emit(mode, self.clean(chunk))

    def _message(self, message: Any, meta: dict[str, Any]) -> None:
        data = message.model_dump() if self._pass and hasattr(message, "model_dump") else jsonable(message)
        content = data.get("content")
        streamed = isinstance(message, BaseMessageChunk) and isinstance(content, str)
        rest = self.clean({k: v for k, v in data.items() if k != "content"})
        if streamed:
            key = str(data.get("id"))
            flt = self._filters.get(key)
            if flt is None:
                flt = self._filters[key] = self.policy.token_filter()
            text = flt.feed(content)
        else:
            text = self.clean(content)
        self._send_message({**rest, "content": text}, self.clean(meta))

    def _send_message(self, data: dict[str, Any], meta: Any) -> None:
        if "messages-tuple" in self.modes:
            self.emit("messages", [data, meta])
        if "messages" in self.modes:
            key = str(data.get("id"))
            seen = self._partial.get(key)
            if seen is None:
                self.emit("messages/metadata", {key: {"metadata": meta}})
                seen = self._partial[key] = {**data, "content": ""}
            if isinstance(data.get("content"), str) and isinstance(seen.get("content"), str):
                seen.update({k: v for k, v in data.items() if k != "content"})
                seen["content"] += data["content"]
            else:
                seen.update(data)
            self.emit("messages/partial", [seen])

    def flush(self) -> None:
        """Text the token filters still hold (a possible pattern prefix) goes out at the end."""
        for key, flt in self._filters.items():
            tail = flt.flush()
            if tail:
                self._send_message({"type": "AIMessageChunk", "id": key, "content": tail}, {})
        self._filters.clear()

    def result(self) -> dict[str, Any]:
        values = self._redact(jsonable(self.values)) if isinstance(self.values, dict) else {}
        if self.interrupts:
            values = {**values, "__interrupt__": self._redact(self.interrupts)}
        return values


def error_data(exc: BaseException) -> dict[str, str]:
    """The ``error`` event's data: the HTTP error's name and cause, never a stack or a secret."""
    if isinstance(exc, HTTPError):
        return {"error": exc.name, "message": exc.cause}
    return {"error": "AgentError", "message": FAILED_MESSAGE}


async def execute(
    run: RunRecord,
    graph: Any,
    graph_input: Any,
    *,
    ctx: RunContext,
    base_config: dict[str, Any],
    overrides: dict[str, Any],
    kwargs: dict[str, Any],
    modes: list[str],
    policy: PolicyEngine,
    timeout_s: float | None,
) -> None:
    """Run to the end, appending events to ``run``; never raises (the error is an event)."""
    streamer = RunStreamer(run, modes, policy)
    streamer.emit("metadata", {"run_id": run.run_id, "attempt": 1})
    run.set_status("running")
    try:
        async with asyncio.timeout(timeout_s):
            async with gated_run(ctx, base_config, run_id=True) as (config, run_id, _handler):
                config = _merge(config, overrides)
                if "events" in streamer.modes:
                    await _with_events(graph, graph_input, config, kwargs, streamer, run_id)
                else:
                    stream = graph.astream(graph_input, config, stream_mode=streamer.lg_modes(), **kwargs)
                    async for mode, chunk in stream:
                        streamer.chunk(mode, chunk)
        streamer.flush()
        run.result = streamer.result()
        run.finish("success")
    except asyncio.CancelledError:
        run.result = streamer.result()
        run.finish("interrupted")
        raise
    except TimeoutError:
        exc = AgentTimeout(f"the agent did not finish within {timeout_s:g}s")
        _fail(run, exc, "timeout")
    except Exception as exc:  # the agent's failure is the run's, reported as an event
        _fail(run, exc, "error")


def _fail(run: RunRecord, exc: BaseException, status: str) -> None:
    data = error_data(exc)
    run.append("error", data)
    run.result = {"__error__": data}
    run.finish(status)


async def _with_events(
    graph: Any, graph_input: Any, config: Any, kwargs: dict[str, Any], streamer: RunStreamer, run_id: str
) -> None:
    """``events`` mode: LangChain's v2 event stream; the root run's own stream chunks still
    drive the other modes (they arrive as ``on_chain_stream`` events of the root run)."""
    events = graph.astream_events(
        graph_input, config, version="v2", stream_mode=streamer.lg_modes(), **kwargs
    )
    async for event in events:
        if event.get("event") == "on_chain_stream" and str(event.get("run_id")) == run_id:
            chunk = event.get("data", {}).get("chunk")
            if isinstance(chunk, tuple) and len(chunk) == 2:
                streamer.chunk(*chunk)
        streamer.emit("events", streamer.clean(event))


def _merge(config: Any, overrides: dict[str, Any]) -> Any:
    merged = dict(config)
    for key, value in overrides.items():
        if key in ("configurable", "metadata"):
            merged[key] = {**(merged.get(key) or {}), **value}
        else:
            merged[key] = value
    return merged
