"""Per-run LangChain callbacks: tool gating, tool events and token usage.

The handlers go in the run's config (never onto the shared agent), so concurrent requests each
get their own. ``ctx.on_tool_start(name, args)`` is awaited *before* a tool body runs, on the
run's event loop, on both paths LangChain uses to run a tool:

* async path (``await tool.ainvoke``, tools with a coroutine): ``_AsyncGate.on_tool_start`` is
  awaited inline by the async callback manager; with ``raise_error = True`` its exception
  aborts the call before the body;
* sync path (a sync ``@tool``: ``StructuredTool.ainvoke`` falls back to ``invoke`` in a worker
  thread, whose sync callback manager swallows errors from *async* handlers): ``_SyncSide``
  runs the hook on the run's loop with ``run_coroutine_threadsafe`` and blocks the worker
  thread until it returns, so its exception aborts the call. A tool run synchronously on the
  event-loop thread itself cannot wait for the hook: it is refused (fail closed).

A denial is remembered: if the framework swallows it (``ToolNode(handle_tool_errors=True)``),
the next model/chain start re-raises it and the adapter raises that same exception at the end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables import RunnableConfig

from agentdock.errors import AgentError, AgentTimeout

from .base import Event, RunContext
from .loading import RUNNABLE_CONFIG_KEYS

log = logging.getLogger(__name__)
Emit = Callable[[Event], None]
GATE_TIMEOUT_S = 60.0


def _args(input_str: str, inputs: Any) -> dict[str, Any]:
    if isinstance(inputs, dict):
        return dict(inputs)
    try:
        parsed = json.loads(input_str)
    except (TypeError, ValueError):
        return {"input": input_str}
    return parsed if isinstance(parsed, dict) else {"input": parsed}


def _tool_output(output: Any) -> Any:
    if isinstance(output, ToolMessage):
        return output.text
    if isinstance(output, str | int | float | bool | dict | list) or output is None:
        return output
    return str(output)


def _tool_name(serialized: dict[str, Any] | None, kwargs: dict[str, Any]) -> str:
    return str((serialized or {}).get("name") or kwargs.get("name") or "tool")


class RunHandler:
    """The state of one run's callbacks; ``handlers`` go into the RunnableConfig."""

    def __init__(self, ctx: RunContext, emit: Emit | None = None) -> None:
        self.ctx = ctx
        self._emit = emit
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.denied: BaseException | None = None
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        self.llm_calls = 0
        self._lock = threading.Lock()
        self._tools: dict[UUID, str] = {}
        self.handlers: list[BaseCallbackHandler] = [_AsyncGate(self), _SyncSide(self)]

    def on_loop_thread(self) -> bool:
        return threading.get_ident() == self.loop_thread

    def emit(self, event: Event) -> None:
        if self._emit is None:
            return
        if self.on_loop_thread():
            self._emit(event)
        else:
            self.loop.call_soon_threadsafe(self._emit, event)

    def abort_if_denied(self) -> None:
        if self.denied is not None:
            raise self.denied

    def allowed(self, run_id: UUID, name: str, args: dict[str, Any]) -> None:
        with self._lock:
            self._tools[run_id] = name
        self.emit(Event("tool_start", {"name": name, "args": args}))

    def is_gated(self, run_id: UUID) -> bool:
        with self._lock:
            return run_id in self._tools

    def finished(self, run_id: UUID, output: Any) -> None:
        with self._lock:
            name = self._tools.pop(run_id, None)
        if name is not None:
            self.emit(Event("tool_end", {"name": name, "output": _tool_output(output)}))

    def add_usage(self, response: LLMResult) -> None:
        used = _usage(response)
        with self._lock:
            self.llm_calls += 1
            for key, value in used.items():
                self.usage[key] += value
                self.ctx.usage[key] = self.ctx.usage.get(key, 0) + value


class _AsyncGate(AsyncCallbackHandler):
    """Gates tools on the async path (awaited inline, before the body)."""

    raise_error = True
    run_inline = True

    def __init__(self, run: RunHandler) -> None:
        self.run = run

    async def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        if asyncio.get_running_loop() is not self.run.loop:
            return  # sync path, driven from a throwaway loop: _SyncSide has gated it already
        self.run.abort_if_denied()
        name, args = _tool_name(serialized, kwargs), _args(input_str, inputs)
        if self.run.ctx.on_tool_start is not None:
            try:
                await self.run.ctx.on_tool_start(name, args)
            except BaseException as exc:
                self.run.denied = exc
                raise
        self.run.allowed(run_id, name, args)


class _SyncSide(BaseCallbackHandler):
    """Gates tools on the sync path; records tool ends and usage; aborts after a denial."""

    raise_error = True
    run_inline = True

    def __init__(self, run: RunHandler) -> None:
        self.run = run

    def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        run = self.run
        if run.is_gated(run_id):
            return  # the async path gated it
        run.abort_if_denied()
        name, args = _tool_name(serialized, kwargs), _args(input_str, inputs)
        hook = run.ctx.on_tool_start
        if hook is not None:
            if run.on_loop_thread():
                raise AgentError(
                    f"tool {name!r} ran synchronously on the event loop, so it cannot be checked before it runs",
                    path=name,
                    hint="call tools with 'await tool.ainvoke(...)' from async nodes (ToolNode does)",
                )

            async def check() -> None:
                await hook(name, args)

            future: concurrent.futures.Future[None] = asyncio.run_coroutine_threadsafe(check(), run.loop)
            try:
                future.result(timeout=GATE_TIMEOUT_S)
            except concurrent.futures.TimeoutError:
                future.cancel()
                run.denied = AgentTimeout(f"the tool check for {name!r} did not answer", path=name)
                raise run.denied from None
            except BaseException as exc:
                run.denied = exc
                raise
        run.allowed(run_id, name, args)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.run.finished(run_id, output)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self.run._lock:
            self.run._tools.pop(run_id, None)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, **kwargs: Any) -> None:
        self.run.abort_if_denied()

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> None:
        self.run.abort_if_denied()

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, **kwargs: Any) -> None:
        self.run.abort_if_denied()

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        try:
            self.run.add_usage(response)
        except Exception:  # usage is best effort; never fail a run over it
            log.debug("could not read token usage", exc_info=True)


def _usage(response: LLMResult) -> dict[str, int]:
    total = {"input_tokens": 0, "output_tokens": 0}
    found = False
    for generations in response.generations:
        for generation in generations:
            meta = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if meta:
                found = True
                total["input_tokens"] += int(meta.get("input_tokens", 0))
                total["output_tokens"] += int(meta.get("output_tokens", 0))
    if not found and response.llm_output:
        usage = response.llm_output.get("token_usage") or response.llm_output.get("usage") or {}
        total["input_tokens"] += int(usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0)
        total["output_tokens"] += int(usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0)
    return total


def run_config(ctx: RunContext, handler: RunHandler, base: dict[str, Any]) -> tuple[RunnableConfig, str]:
    """A fresh RunnableConfig for one run: our handlers first, then any callbacks the runtime added
    (``ctx.config["callbacks"]``, e.g. tracing); returns it with the run id."""
    merged = {k: v for k, v in {**base, **ctx.config}.items() if k in RUNNABLE_CONFIG_KEYS}
    extra = merged.get("callbacks") or []
    run_id = ctx.config.get("run_id") or uuid.uuid4()
    config: dict[str, Any] = {
        **merged,
        "callbacks": [*handler.handlers, *(extra if isinstance(extra, list) else [extra])],
        "metadata": {**(merged.get("metadata") or {}), "agentdock_trace_id": ctx.trace_id},
        "run_id": run_id,
    }
    return RunnableConfig(**config), str(run_id)  # type: ignore[typeddict-item]


def reraise_denial(handler: RunHandler, exc: BaseException | None = None) -> None:
    """Raise the gate's exception itself, even if the framework swallowed or wrapped it."""
    if handler.denied is not None and handler.denied is not exc:
        if exc is None:
            raise handler.denied
        raise handler.denied from exc
