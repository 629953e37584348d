"""doc_summarizer: a one-node LangGraph that summarises ``text`` in at most ``max_words`` words.

State keys match the Dockfile fields (``text``, ``max_words`` in, ``summary`` out), so the
langgraph adapter maps input and output by name. The model is OpenAI gpt-4o-mini when
OPENAI_API_KEY is set (and langchain-openai installed); otherwise a deterministic fake whose
"summary" is the first sentence of the text cut to ``max_words`` words, so the output still
depends on the input and the example runs offline.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agentdock.testing.fake_chat import FakeChatModel, message_text, select_chat_model

DEFAULT_MAX_WORDS = 40
SYSTEM = "You are a precise summariser. Reply with the summary only, no preamble."
PROMPT = "Summarise the text below in at most {max_words} words.\n\nTEXT:\n{text}"


class SummaryState(TypedDict, total=False):
    text: str
    max_words: int
    summary: str


def fake_summary(messages: list[BaseMessage]) -> str:
    """What the offline model answers: the first sentence of the text, at most N words."""
    prompt = message_text(messages[-1])
    limit = re.search(r"at most (\d+) words", prompt)
    max_words = int(limit.group(1)) if limit else DEFAULT_MAX_WORDS
    text = prompt.split("TEXT:\n", 1)[-1].strip()
    first_sentence = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0]
    words = first_sentence.split()
    summary = " ".join(words[:max_words])
    return summary + ("..." if len(words) > max_words else "")


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build the graph once per process; the runtime shares it across requests."""
    model = select_chat_model(
        "openai", "gpt-4o-mini", fake=FakeChatModel(respond=fake_summary, delay_s=0.0), temperature=0
    )

    async def summarize(state: SummaryState) -> dict[str, str]:
        max_words = state.get("max_words") or DEFAULT_MAX_WORDS
        prompt = PROMPT.format(max_words=max_words, text=state["text"])
        reply = await model.ainvoke([SystemMessage(SYSTEM), HumanMessage(prompt)])
        return {"summary": message_text(reply).strip()}

    graph = StateGraph(SummaryState)
    graph.add_node("summarize", summarize)
    graph.add_edge(START, "summarize")
    graph.add_edge("summarize", END)
    return graph.compile(name="doc_summarizer")
