"""Per-run LangChain callbacks: tool gating, tool events, token usage and traced steps.

The handler goes in the run's config (never onto the shared agent), so concurrent requests each
get their own. ``ctx.on_tool_start(name, args)`` is awaited *before* a tool body runs, on the
run's event loop, on both paths LangChain uses to run a tool:

* async path (``await tool.ainvoke``, tools with a coroutine): the async callback manager gets
  ``_gate_async`` and awaits it inline; with ``raise_error = True`` its exception aborts the call
  before the body;
* sync path (a sync ``@tool``: ``StructuredTool.ainvoke`` falls back to ``invoke`` in a worker
  thread, whose sync callback manager would swallow errors from an *async* method): the sync
  manager gets ``_gate_sync``, which calls ``ctx.check_tool`` (the hook's synchronous twin, when
  the policy engine has one) right there on the worker thread, or else runs the hook on the
  run's loop with ``run_coroutine_threadsafe`` and blocks the worker thread until it returns
  (a loop round trip: ~2 % of a small tool graph's run); either way its exception aborts the
  call. A tool run synchronously on the event-loop thread itself cannot wait for the hook: it is
  refused (fail closed).

Why one handler with a dispatching ``on_tool_start`` property, not an async and a sync handler:
every handler in a config costs LangChain/LangGraph ~100 us per run (child managers copy it,
each model call runs a ``runtime_checkable`` Protocol check per handler, each event is
dispatched to it), which was a third of a small graph's run. The property hands the coroutine
only to LangChain's async dispatcher (``_ahandle_event_for_handler``, recognised by its code
object) and the blocking method to everyone else, so an unknown caller gets the method that
cannot be swallowed (fail closed). ``ignore_chain`` / ``ignore_retriever`` / ``ignore_retry`` /
``ignore_custom_event`` are set so LangChain skips the events the handler does not use. For the
same reason tracing adds no handler: on a traced run (``ctx.steps``) this one also reports graph
nodes (so it then takes chain events), tools and model calls to the run's step recorder.

A denial is remembered: if the framework swallows it (``ToolNode(handle_tool_errors=True)``),
any later tool, model or LLM start re-raises it (so nothing the policy governs runs after a
denial) and the adapter raises that same exception at the end of the run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.callbacks import manager as _lc_manager
from langchain_core.messages import ToolMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables import RunnableConfig

from agentdock.errors import AgentError, AgentTimeout

from .base import Event, RunContext, ToolHook
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


def _model_name(kwargs: dict[str, Any], serialized: dict[str, Any] | None) -> str | None:
    params = kwargs.get("invocation_params") or {}
    meta = kwargs.get("metadata") or {}
    return (
        params.get("model")
        or params.get("model_name")
        or meta.get("ls_model_name")
        or ((serialized or {}).get("kwargs") or {}).get("model_name")
    )


def _response_model(response: LLMResult) -> str | None:
    for generations in response.generations:
        for generation in generations:
            meta = getattr(getattr(generation, "message", None), "response_metadata", None) or {}
            model = meta.get("model_name") or meta.get("model")
            if model:
                return str(model)
    return (response.llm_output or {}).get("model_name")


class RunHandler:
    """The state of one run's callbacks; ``handlers`` go into the RunnableConfig."""

    def __init__(self, ctx: RunContext, emit: Emit | None = None) -> None:
        self.ctx = ctx
        self.steps = ctx.steps  # the run is traced: nodes, tools and model calls are recorded
        self._emit = emit
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.denied: BaseException | None = None
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        self.llm_calls = 0
        self._lock = threading.Lock()
        self._tools: dict[UUID, str] = {}
        self.handlers: list[BaseCallbackHandler] = [_Callbacks(self)]

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

    def forget(self, run_id: UUID) -> None:
        with self._lock:
            self._tools.pop(run_id, None)

    def finished(self, run_id: UUID, output: Any) -> None:
        with self._lock:
            name = self._tools.pop(run_id, None)
        if name is not None:
            self.emit(Event("tool_end", {"name": name, "output": _tool_output(output)}))

    def add_usage(self, response: LLMResult) -> dict[str, int]:
        used = _usage(response)
        with self._lock:
            self.llm_calls += 1
            for key, value in used.items():
                self.usage[key] += value
                self.ctx.usage[key] = self.ctx.usage.get(key, 0) + value
        return used


# LangChain's async event dispatcher: the only caller that awaits what ``getattr`` returns.
_ASYNC_DISPATCH = getattr(getattr(_lc_manager, "_ahandle_event_for_handler", None), "__code__", None)
ToolStart = Callable[..., Any]


class _Callbacks(BaseCallbackHandler):
    """Gates tools (both paths), records tool ends and usage, aborts after a denial; on a traced
    run it also reports graph nodes, tools and model calls to ``ctx.steps``."""

    raise_error = True
    run_inline = True

    def __init__(self, run: RunHandler) -> None:
        self.run = run

    @property
    def ignore_chain(self) -> bool:
        return self.run.steps is None  # chains matter only to trace graph nodes

    @property
    def ignore_retriever(self) -> bool:
        return True

    @property
    def ignore_retry(self) -> bool:
        return True

    @property
    def ignore_custom_event(self) -> bool:
        return True

    @property
    def on_tool_start(self) -> ToolStart:  # type: ignore[override]
        """The coroutine for LangChain's async dispatcher, the blocking method for anyone else."""
        if _ASYNC_DISPATCH is not None and sys._getframe(1).f_code is _ASYNC_DISPATCH:
            return self._gate_async
        return self._gate_sync

    async def _gate_async(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        run = self.run
        run.abort_if_denied()
        name, args = _tool_name(serialized, kwargs), _args(input_str, inputs)
        hook = run.ctx.on_tool_start
        if hook is not None:
            try:
                if asyncio.get_running_loop() is run.loop:
                    await hook(name, args)
                else:  # a tool's own loop in another thread: the hook runs on the run's loop
                    await _on_run_loop(run, hook, name, args)
            except BaseException as exc:
                run.denied = exc
                raise
        run.allowed(run_id, name, args)
        if run.steps is not None:
            run.steps.tool_start(run_id, name, inputs if inputs is not None else input_str)

    def _gate_sync(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        run = self.run
        run.abort_if_denied()
        name, args = _tool_name(serialized, kwargs), _args(input_str, inputs)
        hook, check = run.ctx.on_tool_start, run.ctx.check_tool
        if hook is not None and check is not None and not run.on_loop_thread():
            try:  # the hook's synchronous twin, right here on the worker thread
                check(name, args)
            except BaseException as exc:
                run.denied = exc
                raise
        elif hook is not None:
            if run.on_loop_thread():
                raise AgentError(
                    f"tool {name!r} ran synchronously on the event loop, so it cannot be checked before it runs",
                    path=name,
                    hint="call tools with 'await tool.ainvoke(...)' from async nodes (ToolNode does)",
                )
            future = asyncio.run_coroutine_threadsafe(_call(hook, name, args), run.loop)
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
        if run.steps is not None:
            run.steps.tool_start(run_id, name, inputs if inputs is not None else input_str)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.run.finished(run_id, output)
        if self.run.steps is not None:
            self.run.steps.end(run_id, output=getattr(output, "content", output))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.run.forget(run_id)
        if self.run.steps is not None:
            self.run.steps.end(run_id, error=error)

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        # Only with ``ctx.steps`` (ignore_chain). LangGraph marks the run of each node with
        # ``metadata["langgraph_node"]`` and names it after the node; inner chains carry the
        # same metadata under other names.
        node = (kwargs.get("metadata") or {}).get("langgraph_node")
        steps = self.run.steps
        if steps is not None and node is not None and kwargs.get("name") == node:
            steps.node_start(run_id, str(node))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if self.run.steps is not None:
            self.run.steps.end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        if self.run.steps is not None:
            self.run.steps.end(run_id, error=error)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, **kwargs: Any) -> None:
        self.run.abort_if_denied()
        if self.run.steps is not None:
            self.run.steps.model_start(kwargs.get("run_id"), _model_name(kwargs, serialized))

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> None:
        self.run.abort_if_denied()
        if self.run.steps is not None:
            self.run.steps.model_start(kwargs.get("run_id"), _model_name(kwargs, serialized))

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        try:
            used = self.run.add_usage(response)
            if self.run.steps is not None:
                model = _response_model(response)
                self.run.steps.model_end(
                    kwargs.get("run_id"), used["input_tokens"], used["output_tokens"], model
                )
        except Exception:  # usage is best effort; never fail a run over it
            log.debug("could not read token usage", exc_info=True)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        if self.run.steps is not None:
            self.run.steps.end(kwargs.get("run_id"), error=error)


async def _call(hook: ToolHook, name: str, args: dict[str, Any]) -> None:
    await hook(name, args)


async def _on_run_loop(run: RunHandler, hook: ToolHook, name: str, args: dict[str, Any]) -> None:
    """Await the hook on the run's loop from another thread's loop (bounded, like the sync path)."""
    future = asyncio.run_coroutine_threadsafe(_call(hook, name, args), run.loop)
    done, _ = await asyncio.wait([asyncio.wrap_future(future)], timeout=GATE_TIMEOUT_S)
    if not done:
        future.cancel()
        raise AgentTimeout(f"the tool check for {name!r} did not answer", path=name)
    future.result()


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


# LangSmith's switches (LangChain adds its tracer when one is "true"); read directly, because
# ``langsmith.utils.tracing_is_enabled()`` costs ~20 us, about 1 % of a small graph's run.
_LANGSMITH_SWITCHES = (
    "LANGSMITH_TRACING_V2",
    "LANGCHAIN_TRACING_V2",
    "LANGSMITH_TRACING",
    "LANGCHAIN_TRACING",
)


def _langsmith_tracing() -> bool:
    return any(os.environ.get(name, "").strip().lower() == "true" for name in _LANGSMITH_SWITCHES)


def run_config(
    ctx: RunContext, handler: RunHandler, base: dict[str, Any], *, run_id: bool = False
) -> tuple[RunnableConfig, str]:
    """A fresh RunnableConfig for one run: our handler first, then any callbacks the runtime added
    (``ctx.config["callbacks"]``, e.g. tracing) or the Dockfile set; returns it with the run id.

    The run id and the ``agentdock_trace_id`` metadata are only for someone who traces the run:
    they go into the config when it has other callbacks, LangSmith tracing is on or the caller
    asks (``run_id=True``: it matches events by run id). Otherwise the run id is ``""`` and the
    config carries neither: LangGraph merges metadata into every step's config and hands the run
    id around, ~2 % of a small graph's run for values nobody reads.
    """
    merged = (
        {**base, **{k: v for k, v in ctx.config.items() if k in RUNNABLE_CONFIG_KEYS}} if ctx.config else base
    )
    extra = merged.get("callbacks") or []
    extra = extra if isinstance(extra, list) else [extra]
    config: dict[str, Any] = {**merged, "callbacks": [*handler.handlers, *extra]}
    if not (run_id or extra or "run_id" in ctx.config or _langsmith_tracing()):
        return RunnableConfig(**config), ""  # type: ignore[typeddict-item]
    run = ctx.config.get("run_id") or uuid.uuid4()
    config["metadata"] = {**(merged.get("metadata") or {}), "agentdock_trace_id": ctx.trace_id}
    config["run_id"] = run
    return RunnableConfig(**config), str(run)  # type: ignore[typeddict-item]


def reraise_denial(handler: RunHandler, exc: BaseException | None = None) -> None:
    """Raise the gate's exception itself, even if the framework swallowed or wrapped it."""
    if handler.denied is not None and handler.denied is not exc:
        if exc is None:
            raise handler.denied
        raise handler.denied from exc


@asynccontextmanager
async def gated_run(
    ctx: RunContext, base: dict[str, Any], emit: Emit | None = None, *, run_id: bool = False
) -> AsyncIterator[tuple[RunnableConfig, str, RunHandler]]:
    """One run's config and handler (``run_id``: see ``run_config``); on the way out the gate's
    own exception wins, even if the framework swallowed or wrapped it."""
    handler = RunHandler(ctx, emit)
    config, run = run_config(ctx, handler, base, run_id=run_id)
    try:
        yield config, run, handler
    except BaseException as exc:
        reraise_denial(handler, exc)
        raise
    reraise_denial(handler)
