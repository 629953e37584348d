"""LangChain adapter: any ``Runnable`` (e.g. ``prompt | model | parser``), or a zero-arg factory
returning one (called once at load); a plain one-argument function is coerced to a Runnable.

Input: the Dockfile input dict is the Runnable's input as is (prompt template variables).
Output: a ``str`` -> the single string output field; a dict -> fields by name; a message -> its
text (rules in ``adapters.mapping``).

Streaming uses ``astream_events(version="v2")``: each ``on_chat_model_stream`` chunk with text
becomes a ``token`` event as it arrives; the root run's ``*_end`` event carries the final output
for ``end {output}`` (root stream chunks, added up, are the fallback). Tool gating, tool events
and usage come from the same per-run callbacks as the LangGraph adapter; failures (including a
tool denial) are raised unchanged from the iterator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import BaseMessageChunk
from langchain_core.runnables import Runnable, RunnableLambda

from .base import Event, RunContext
from .callbacks import gated_run
from .events import Emit, pump
from .loading import LoadedAgent, base_config, build_once, import_object, is_factory
from .mapping import io_fields, map_output

EXPECTED = "a LangChain Runnable, or a zero-arg function returning one"


def _as_runnable(obj: Any) -> Runnable[Any, Any] | None:
    if isinstance(obj, Runnable):
        return obj
    return None


def _add(total: Any, chunk: Any) -> Any:
    if total is None:
        return chunk
    try:
        return total + chunk
    except TypeError:
        return chunk


class LangChainAdapter:
    name = "langchain"

    def load(self, entrypoint: str, config: dict[str, Any]) -> LoadedAgent:
        """Import the entrypoint from ``config["base_dir"]`` and build the Runnable once."""
        obj = import_object(entrypoint, config.get("base_dir", "."))
        if callable(obj) and not isinstance(obj, Runnable) and not is_factory(obj):
            obj = RunnableLambda(obj)
        return self.prepare(build_once(obj, _as_runnable, entrypoint, EXPECTED), config)

    def prepare(self, runnable: Any, config: dict[str, Any]) -> LoadedAgent:
        """Wrap an already built Runnable with the Dockfile's I/O fields."""
        io = io_fields(config.get("spec"), config.get("base_dir", "."), import_object)
        return LoadedAgent(runnable, io, base_config(config), getattr(runnable, "name", None) or "agent")

    async def invoke(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        loaded = agent if isinstance(agent, LoadedAgent) else self.prepare(agent, {})
        async with gated_run(ctx, loaded.base_config) as (config, _, _handler):
            result = await loaded.runnable.ainvoke(dict(input), config)
        return map_output(result, loaded.io)

    def stream(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> AsyncIterator[Event]:
        loaded = agent if isinstance(agent, LoadedAgent) else self.prepare(agent, {})
        return pump(lambda emit: self._run(loaded, input, ctx, emit))

    async def _run(self, loaded: LoadedAgent, data: dict[str, Any], ctx: RunContext, emit: Emit) -> None:
        streamed: Any = None
        final: Any = None
        done = False
        async with gated_run(ctx, loaded.base_config, emit, run_id=True) as (config, run_id, handler):
            emit(Event("start", {"run_id": run_id}))
            async for event in loaded.runnable.astream_events(dict(data), config, version="v2"):
                kind, root = event["event"], not event.get("parent_ids")
                if kind == "on_chat_model_stream":
                    chunk = event["data"].get("chunk")
                    if isinstance(chunk, BaseMessageChunk) and chunk.text:
                        emit(Event("token", {"text": chunk.text}))
                elif root and kind.endswith("_stream"):
                    streamed = _add(streamed, event["data"].get("chunk"))
                elif root and kind.endswith("_end") and "output" in event["data"]:
                    final, done = event["data"]["output"], True
        if handler.llm_calls:
            emit(Event("usage", dict(handler.usage)))
        emit(Event("end", {"output": map_output(final if done else streamed, loaded.io)}))
