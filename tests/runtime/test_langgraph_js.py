"""LangGraph's JS client (``@langchain/langgraph-sdk``'s ``Client``, run by Node.js) against served agents.

``tests/js/sdk_client.mjs`` makes the SDK's own calls and prints what it saw as JSON; the
agents run under uvicorn on 127.0.0.1 with the real security and policy stages (the invoice
copilot with its offline fake model, and ``lghelpers``'s review graph with ``interrupt()``).
Node.js and ``tests/js/node_modules`` come from ``make test`` (``jshelpers``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jshelpers import run_node
from lghelpers import Served, invoice_spec, review_graph, review_spec, serve_agent

pytestmark = pytest.mark.integration

CARD = "4111111111111111"
EMAIL = "billing@acme.example"


def sdk_client(scenario: str, served: Served, assistant: str) -> Any:
    keys = {"AGENTDOCK_KEY": served.keys["alice"], "AGENTDOCK_OTHER_KEY": served.keys["bob"]}
    return run_node("sdk_client.mjs", scenario, served.url, assistant, env=keys)


@pytest.fixture(scope="module")
def invoice() -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTDOCK_FAKE_MODEL", "1")
        mp.delenv("AGENTDOCK_STORE", raising=False)
        spec, base = invoice_spec("memory")
        with serve_agent(spec, base) as served:
            yield served


def test_js_client_threads_runs_and_stream_modes(invoice: Served) -> None:
    out = sdk_client("chat", invoice, "invoice_copilot")
    assert out["assistants"] == [{"assistant_id": "invoice_copilot", "graph_id": "invoice_copilot"}]
    assert out["first"]["count"] == 4  # question, tool call, tool result, answer
    assert "1250.00 EUR" in out["first"]["last"]
    second = out["second"]  # the second run on the thread sees the first one's messages
    assert second["count"] == 8 and second["first"] == "What is the total of INV-1001?"
    assert "89.90 USD" in second["last"]

    tuples = out["tuples"]
    assert tuples["events"][0] == "metadata" and set(tuples["events"][1:]) == {"messages"}
    assert tuples["metadata_is_object"]
    tokens = [t for t in tuples["tokens"] if t]
    assert len(tokens) > 3  # the answer arrives in pieces
    assert "".join(tokens).startswith("Invoice INV-1001 for Acme GmbH totals 1250.00 EUR")
    assert tuples["run_created"]["thread_id"] == out["thread_id"]  # onRunCreated, from Content-Location

    values = out["values"]
    assert values["events"][0] == "metadata" and set(values["events"][1:]) == {"values"}
    assert None not in values["ids"] and len(set(values["ids"])) == len(values["ids"])  # each event once
    assert values["last_count"] == 16 and "89.90 USD" in values["last"]  # 4 runs of 4 messages
    assert out["updates"]["nodes"] == [["agent"], ["tools"], ["agent"]]
    assert out["thread_status"] == "idle"
    assert out["denied"] == {"get": 404, "state": 404, "wait": 404, "search": False}
    raw = str(out)
    assert CARD not in raw and EMAIL not in raw and "[REDACTED]" in raw  # the output policy on every mode


def test_js_client_interrupt_resume_and_join_stream_after_a_drop() -> None:
    with serve_agent(review_spec("memory"), agent=review_graph()) as served:
        out = sdk_client("review", served, "review_agent")
    [pending] = out["interrupt"]
    assert pending["value"] == {"question": "approve this draft?", "draft": "refund for INV-7"}
    assert out["state_next"] == ["review"] and out["state_interrupt_ids"] == [pending["id"]]
    assert out["resumed"] == [
        {"event": "metadata", "data": None},
        {"event": "updates", "data": {"review": {"approved": True}}},
    ]
    assert out["approved"] is True and out["thread_status"] == "idle"

    drop = out["drop"]
    run_id = drop["run_created"]["run_id"]
    assert [p["event"] for p in drop["before"]] == ["metadata", "values", "custom"]
    assert drop["before"][0]["data"]["run_id"] == run_id
    before_ids = [p["id"] for p in drop["before"]]
    rest = drop["rest"]
    assert drop["last_event_id"] == before_ids[-1]
    assert not {p["id"] for p in rest} & set(before_ids)  # nothing repeated
    progress = [p["data"]["progress"] for p in drop["before"] + rest if p["event"] == "custom"]
    assert progress == list(range(1, 9))  # nothing lost
    assert rest[-1]["event"] == "values" and rest[-1]["data"]["draft"] == "refund for slow drop"
    assert "__interrupt__" in rest[-1]["data"] and drop["run_status"] == "success"
    assert drop["other_join"] == 404  # another key cannot join the run's stream

    # the network cut the stream after three events: the SDK rejoined by itself at ``Location``
    # with ``Last-Event-ID`` and got the rest, none twice
    cut = out["cut"]
    parts = cut["parts"]
    cut_run = parts[0]["data"]["run_id"]
    post, rejoin, *_ = cut["requests"]
    assert post["method"] == "POST" and post["path"].endswith("/runs/stream")
    assert rejoin["method"] == "GET" and rejoin["path"].endswith(f"/runs/{cut_run}/stream")
    assert rejoin["last_event_id"] == parts[2]["id"]
    ids = [p["id"] for p in parts]
    assert None not in ids and len(set(ids)) == len(ids)
    assert [p["data"]["progress"] for p in parts if p["event"] == "custom"] == list(range(1, 9))
    assert parts[-1]["data"]["draft"] == "refund for slow cut"
    assert out["denied"] == {"get": 404, "state": 404, "wait": 404, "search": False}
