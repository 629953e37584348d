"""The issue's done-when for the LangGraph API, as a ``langgraph_sdk`` user writes it, against
any URL serving the invoice_copilot example (``serve``, a local deploy, the preflight-run Lambda
image). Shared by tests/e2e and tests/preflight."""

from __future__ import annotations

from langgraph_sdk import get_sync_client

AGENT = "invoice_copilot"
CARD = "4111111111111111"


def done_when(url: str, key: str) -> tuple[str, int]:
    """The issue's done-when, verbatim in spirit; returns the thread id and its message count."""
    c = get_sync_client(url=url, api_key=key)
    [assistant] = c.assistants.search()
    assert assistant["assistant_id"] == AGENT
    thread_id = c.threads.create()["thread_id"]
    first = c.runs.wait(thread_id, AGENT, input={"question": "What is the total of INV-1001?"})
    second = c.runs.wait(thread_id, AGENT, input={"question": "And INV-1002?"})
    assert "1250.00" in first["messages"][-1]["content"]
    assert "89.90" in second["messages"][-1]["content"]
    # memory across the runs: the second run's state starts with the first run's conversation
    assert len(second["messages"]) == len(first["messages"]) + 4  # question, tool call, tool, answer
    assert [m["content"] for m in second["messages"][: len(first["messages"])]] == [
        m["content"] for m in first["messages"]
    ]
    tokens: list[str] = []
    for part in c.runs.stream(
        thread_id, AGENT, input={"question": "INV-1002?"}, stream_mode="messages-tuple"
    ):
        if part.event == "messages":
            message, _metadata = part.data
            if message["type"] == "AIMessageChunk":
                print(message["content"], end="")
                tokens.append(message["content"])
    text = "".join(tokens)
    assert len([t for t in tokens if t]) > 1 and "totals 89.90 USD" in text  # streamed in pieces
    assert CARD not in text  # the Dockfile's redaction on the token stream
    state = c.threads.get_state(thread_id)
    assert len(state["values"]["messages"]) == len(second["messages"]) + 4
    return thread_id, len(state["values"]["messages"])


def continues(url: str, key: str, thread_id: str, count: int) -> None:
    """The thread is still there with its messages, and a new run continues it."""
    c = get_sync_client(url=url, api_key=key)
    assert len(c.threads.get_state(thread_id)["values"]["messages"]) == count
    third = c.runs.wait(thread_id, AGENT, input={"question": "And INV-1001 again?"})
    assert len(third["messages"]) == count + 4 and "1250.00" in third["messages"][-1]["content"]
