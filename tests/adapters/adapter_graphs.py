"""Small graphs built inside tests (the examples cover the common shapes; these cover the edges)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from agentdock.spec.models import DockSpec
from agentdock.testing.fake_chat import FakeChatModel, call_tool


def spec_with_io(inputs: dict[str, str], outputs: dict[str, str], framework: str = "langgraph") -> DockSpec:
    """A minimal valid DockSpec whose inline io_schema has the given field -> JSON type maps."""

    def schema(fields: dict[str, str]) -> dict[str, Any]:
        return {"type": "object", "properties": {k: {"type": t} for k, t in fields.items()}}

    return DockSpec.model_validate(
        {
            "version": "1.0",
            "agent": {"name": "test_agent", "entrypoint": "x:y", "framework": framework},
            "model": {"provider": "custom", "name": "fake"},
            "io_schema": {"input": schema(inputs), "output": schema(outputs)},
            "auth": {"mode": "api_key", "api_keys": {"enabled": True}},
        }
    )


def echo_graph(delay_s: float = 0.0) -> Any:
    """model -> END, the model echoes the user's words: 'you said: <words>'."""
    model = FakeChatModel(respond=lambda m: "you said: " + m[-1].text, delay_s=delay_s)

    async def call(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call)
    graph.add_edge(START, "model")
    graph.add_edge("model", END)
    return graph.compile()


def tool_loop(
    side_effect: Path, *, async_tool: bool = False, swallow_errors: bool = False
) -> tuple[Any, list[int]]:
    """model -> ToolNode -> model; the model always asks for ``write_file`` first.

    Returns the graph and a list that grows by one per model call.
    """
    calls: list[int] = []

    if async_tool:

        @tool
        async def write_file(text: str) -> str:
            """Write text to the side-effect file."""
            side_effect.write_text(text)
            return "written"

    else:

        @tool
        def write_file(text: str) -> str:
            """Write text to the side-effect file."""
            side_effect.write_text(text)
            return "written"

    def script(messages: list[BaseMessage]) -> AIMessage | str:
        calls.append(1)
        if isinstance(messages[-1], ToolMessage):
            return "finished: " + messages[-1].text
        return call_tool("write_file", {"text": "payload"})

    model = FakeChatModel(respond=script).bind_tools([write_file])

    async def call(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", call)
    graph.add_node("tools", ToolNode([write_file], handle_tool_errors=swallow_errors))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(), calls
