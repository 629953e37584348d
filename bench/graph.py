"""The graph every runtime benchmark runs: one LangGraph node calling the deterministic fake
model, so what is measured is the serving stack around a real graph, not a provider."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.messages import HumanMessage
from langgraph.graph import END, START, StateGraph

from agentdock.testing.fake_chat import FakeChatModel

REPLY = "The quick brown fox jumps over the lazy dog and then keeps running"
INPUT = {"text": "Summarise: the fox and the dog."}


class State(TypedDict, total=False):
    text: str
    summary: str


def build_graph() -> Any:
    """Compiled once per process; safe to share across concurrent runs."""
    model = FakeChatModel(responses=[REPLY])

    async def summarize(state: State) -> dict[str, str]:
        reply = await model.ainvoke([HumanMessage(state["text"])])
        return {"summary": reply.text}

    graph = StateGraph(State)
    graph.add_node("summarize", summarize)
    graph.add_edge(START, "summarize")
    graph.add_edge("summarize", END)
    return graph.compile(name="bench")
