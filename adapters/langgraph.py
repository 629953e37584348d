"""LangGraph adapter: a compiled graph, a ``StateGraph`` (compiled at load) or a zero-arg factory
returning either (called once at load). The graph is shared by all requests; every run gets its
own config (callbacks, run id), so nothing shared is mutated.

Input mapping (Dockfile input fields -> graph input):

* message-based graphs (the state has a ``messages`` channel): the string input field named
  ``messages``, ``input``, ``question``, ``query`` or ``text`` (first found, in that order), or
  else the only string field the schema declares, becomes ``{"messages": [HumanMessage(text)]}``;
  every other input field is passed as a state key of the same name (the message field too, if
  the state has a channel of that name). A ``messages`` list is passed through unchanged.
* other graphs: the input dict is the graph input (keys = state keys).

Output mapping (final state -> declared output fields): each declared output field takes the
state key of the same name; if exactly one declared string field is left (typically the only
one, e.g. ``answer``), it gets the text of the last ``AIMessage`` in ``messages``. Values that
are messages become their text.

Streaming uses ``graph.astream(stream_mode=["messages", "updates", "values"])`` (v1 output:
``(mode, payload)`` tuples): ``messages`` payloads are ``(chunk, metadata)`` and become ``token``
events as they arrive (AI text only, never buffered); ``updates`` payloads are
``{node: update}`` and become ``update {node, keys}``; the last ``values`` payload is the final
state for ``end {output}``. Tool events come from the per-run callback handler, which also gates
every tool before its body runs. Event order: ``start``, then tokens / updates / tool events as
they happen, ``usage`` (when a model ran), ``end``. A failure (including a tool denial) is raised
unchanged from the iterator; the runtime turns it into an ``error`` event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from .base import Event, RunContext
from .callbacks import gated_run
from .events import Emit, pump
from .loading import LoadedAgent, base_config, build_once, import_object
from .mapping import io_fields, map_output, message_field

EXPECTED = "a compiled LangGraph graph, a StateGraph, or a zero-arg function returning one"


def _as_graph(obj: Any) -> Pregel[Any, Any, Any, Any] | None:
    if isinstance(obj, Pregel):
        return obj
    if isinstance(obj, StateGraph):
        return obj.compile()
    return None


def graph_input(graph: Any, data: dict[str, Any], agent: LoadedAgent) -> dict[str, Any]:
    """Dockfile input -> graph input (rules in the module docstring)."""
    channels = getattr(graph, "channels", {}) or {}
    if "messages" not in channels:
        return dict(data)
    name = message_field(data, agent.io)
    if name is None:
        return dict(data)
    out = {k: v for k, v in data.items() if k != name}
    out["messages"] = [HumanMessage(content=data[name])]
    if name in channels and name != "messages":
        out[name] = data[name]
    return out


class LangGraphAdapter:
    name = "langgraph"

    def load(self, entrypoint: str, config: dict[str, Any]) -> LoadedAgent:
        """Import the entrypoint from ``config["base_dir"]`` and compile/build the graph once."""
        base_dir = config.get("base_dir", ".")
        obj = import_object(entrypoint, base_dir)
        graph = build_once(obj, _as_graph, entrypoint, EXPECTED)
        return self.prepare(graph, config)

    def prepare(self, graph: Any, config: dict[str, Any]) -> LoadedAgent:
        """Wrap an already imported graph (or StateGraph) with the Dockfile's I/O fields."""
        compiled = _as_graph(graph) or graph
        io = io_fields(config.get("spec"), config.get("base_dir", "."), import_object)
        return LoadedAgent(compiled, io, base_config(config), getattr(compiled, "name", None) or "agent")

    async def invoke(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        loaded = agent if isinstance(agent, LoadedAgent) else self.prepare(agent, {})
        async with gated_run(ctx, loaded.base_config) as (config, _, _handler):
            state = await loaded.runnable.ainvoke(graph_input(loaded.runnable, input, loaded), config)
        return map_output(state, loaded.io)

    def stream(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> AsyncIterator[Event]:
        loaded = agent if isinstance(agent, LoadedAgent) else self.prepare(agent, {})
        return pump(lambda emit: self._run(loaded, input, ctx, emit))

    async def _run(self, loaded: LoadedAgent, data: dict[str, Any], ctx: RunContext, emit: Emit) -> None:
        graph = loaded.runnable
        final: Any = None
        async with gated_run(ctx, loaded.base_config, emit, run_id=True) as (config, run_id, handler):
            emit(Event("start", {"run_id": run_id}))
            stream = graph.astream(
                graph_input(graph, data, loaded), config, stream_mode=["messages", "updates", "values"]
            )
            async for mode, payload in stream:
                if mode == "messages":
                    message = payload[0]
                    if isinstance(message, AIMessageChunk | AIMessage) and message.text:
                        emit(Event("token", {"text": message.text}))
                elif mode == "updates" and isinstance(payload, dict):
                    for node, update in payload.items():
                        keys = sorted(update) if isinstance(update, dict) else []
                        emit(Event("update", {"node": node, "keys": keys}))
                elif mode == "values":
                    final = payload
        if handler.llm_calls:
            emit(Event("usage", dict(handler.usage)))
        emit(Event("end", {"output": map_output(final if final is not None else {}, loaded.io)}))
