"""The graph of the ``agentdock serve`` benchmark: an agent node that asks for a tool, a LangGraph
ToolNode that runs it (so the Dockfile's tool gate is on the path), and an answer node calling
the deterministic fake model. ``build_graph`` is the Dockfile entrypoint; ``bench.serve_bare``
serves the same graph from a bare FastAPI route."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode

from agentdock.testing.fake_chat import FakeChatModel

REPLY = "The quick brown fox jumps over the lazy dog and then keeps running"
INPUT = {"text": "Summarise: the fox and the dog."}


@tool
def lookup(q: str) -> str:
    """Look a word up."""
    return f"{q}: a small animal"


class State(TypedDict, total=False):
    text: str
    summary: str
    messages: Annotated[list[AnyMessage], add_messages]


def build_graph() -> Any:
    model = FakeChatModel(responses=[REPLY])

    async def agent(state: State) -> dict[str, Any]:
        call = {"name": "lookup", "args": {"q": "fox"}, "id": "call-1", "type": "tool_call"}
        return {"messages": [HumanMessage(state["text"]), AIMessage(content="", tool_calls=[call])]}

    async def answer(state: State) -> dict[str, Any]:
        reply = await model.ainvoke(state["messages"])
        return {"summary": reply.text}

    graph = StateGraph(State)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([lookup]))
    graph.add_node("answer", answer)
    graph.add_edge(START, "agent")
    graph.add_edge("agent", "tools")
    graph.add_edge("tools", "answer")
    graph.add_edge("answer", END)
    return graph.compile(name="bench_tools")
