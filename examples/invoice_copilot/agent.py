"""invoice_copilot: a tool-calling LangGraph agent (model -> tools -> model) over invoices.

The loop is the prebuilt pattern: the model (with ``bind_tools``) either answers or asks for
tools; ``ToolNode`` runs them; the answer goes back to the model. The state is message based:
the adapter turns the ``question`` input into a HumanMessage and the last AI message into the
``answer`` output.

Offline, the model is a rule-based fake: a question mentioning a refund calls ``issue_refund``
(which the Dockfile policy denies before it runs); any other question calls ``lookup_invoice``
and then answers with the invoice total and the card number on file, a 16-digit number the
Dockfile's redact patterns remove from the response. With OPENAI_API_KEY set (and
langchain-openai installed) the same graph runs on gpt-4o-mini.
"""

from __future__ import annotations

import json
import re
from typing import Any

from invoice_tools import INVOICES, issue_refund, lookup_invoice
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from agentdock.testing.fake_chat import FakeChatModel, call_tool, message_text, select_chat_model

SYSTEM = (
    "You are a billing copilot. Use lookup_invoice to answer questions about invoices. "
    "Answer with the invoice total and status."
)
DEFAULT_INVOICE = "INV-1001"


def _question(messages: list[BaseMessage]) -> str:
    humans = [m for m in messages if isinstance(m, HumanMessage)]
    return message_text(humans[-1]) if humans else ""


def scripted_copilot(messages: list[BaseMessage]) -> AIMessage | str:
    """The offline model's rules (deterministic, driven by the conversation so far)."""
    last = messages[-1]
    if isinstance(last, ToolMessage):
        if last.name == "issue_refund":
            return f"Done: {message_text(last)}."
        data = json.loads(message_text(last))
        if "error" in data:
            return f"I could not find invoice {data['invoice_id']}."
        return (
            f"Invoice {data['invoice_id']} for {data['customer']} totals {data['total']} {data['currency']} "
            f"and is {data['status']}. It was charged to card {data['card_number']}; "
            f"the billing contact is {data['billing_email']}."
        )
    question = _question(messages)
    match = re.search(r"INV-\d+", question, re.IGNORECASE)
    invoice_id = match.group(0).upper() if match else DEFAULT_INVOICE
    if "refund" in question.lower():
        amount = INVOICES.get(invoice_id, {}).get("total", "0.00")
        return call_tool("issue_refund", {"invoice_id": invoice_id, "amount": amount})
    return call_tool("lookup_invoice", {"invoice_id": invoice_id})


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build the agent loop once per process; the runtime shares it across requests."""
    tools = [lookup_invoice, issue_refund]
    model = select_chat_model(
        "openai", "gpt-4o-mini", fake=FakeChatModel(respond=scripted_copilot), temperature=0
    ).bind_tools(tools)

    async def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        reply = await model.ainvoke([SystemMessage(SYSTEM), *state["messages"]])
        return {"messages": [reply]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", call_model)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition, {"tools": "tools", END: END})
    graph.add_edge("tools", "agent")
    return graph.compile(name="invoice_copilot")
