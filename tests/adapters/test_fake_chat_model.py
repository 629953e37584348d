"""FakeChatModel: deterministic scripts, real tool calls (also streamed), tokens, usage, selection."""

from __future__ import annotations

import sys
import time
import types

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.tools import tool

from agentdock import settings
from agentdock.testing.fake_chat import FakeChatModel, call_tool, select_chat_model, split_tokens

pytestmark = pytest.mark.unit


@tool
def lookup_invoice(invoice_id: str) -> str:
    """Look up an invoice."""
    return invoice_id


@tool
def issue_refund(invoice_id: str) -> str:
    """Refund an invoice."""
    return invoice_id


async def _collect(model, prompt) -> list[AIMessageChunk]:
    return [chunk async for chunk in model.astream(prompt)]


def test_responses_cycle_in_order() -> None:
    model = FakeChatModel(responses=["one", AIMessage(content="two")])
    answers = [model.invoke("hi").content for _ in range(5)]
    assert answers == ["one", "two", "one", "two", "one"]


def test_respond_script_sees_messages_and_bound_tool_names() -> None:
    calls: list[tuple[list[str], list[str]]] = []

    def script(messages: list[BaseMessage], tools: list[str]) -> str:
        calls.append(([m.text for m in messages], tools))
        return f"echo {messages[-1].text}"

    bound = FakeChatModel(respond=script).bind_tools([lookup_invoice, issue_refund])
    reply = bound.invoke([HumanMessage("ping pong")])
    assert reply.content == "echo ping pong"
    assert calls == [(["ping pong"], ["lookup_invoice", "issue_refund"])]


def test_script_without_tools_parameter_gets_messages_only() -> None:
    model = FakeChatModel(respond=lambda messages: messages[-1].text.upper())
    assert model.invoke("shout this").content == "SHOUT THIS"


def test_tool_calls_get_stable_ids_and_are_checked_against_bound_tools() -> None:
    model = FakeChatModel(respond=lambda m: call_tool("lookup_invoice", {"invoice_id": "INV-1"}))
    first = model.bind_tools([lookup_invoice]).invoke("q")
    again = model.bind_tools([lookup_invoice]).invoke("q")
    assert first.tool_calls == again.tool_calls
    assert first.tool_calls[0]["name"] == "lookup_invoice"
    assert first.tool_calls[0]["args"] == {"invoice_id": "INV-1"}
    assert first.tool_calls[0]["id"].startswith("call_")
    with pytest.raises(ValueError, match="only \\['issue_refund'\\] are bound"):
        model.bind_tools([issue_refund]).invoke("q")


def test_usage_counts_prompt_words_and_generated_tokens() -> None:
    reply = FakeChatModel(responses=["a b c"]).invoke([HumanMessage("one two three four")])
    assert reply.usage_metadata == {"input_tokens": 4, "output_tokens": 3, "total_tokens": 7}


async def test_stream_sends_one_word_per_chunk_with_its_whitespace() -> None:
    text = "Hello  there,\nworld! bye"
    chunks = await _collect(FakeChatModel(responses=[text]), "hi")
    assert [c.content for c in chunks] == ["Hello  ", "there,\n", "world! ", "bye"]
    assert [c.usage_metadata for c in chunks[:-1]] == [None, None, None]
    assert chunks[-1].usage_metadata["output_tokens"] == 4
    merged = sum(chunks[1:], chunks[0])
    assert merged.content == text
    assert merged.usage_metadata["output_tokens"] == 4


async def test_chunk_size_groups_words() -> None:
    chunks = await _collect(FakeChatModel(responses=["a b c d e"], chunk_size=2), "hi")
    assert [c.content for c in chunks] == ["a b ", "c d ", "e"]


async def test_streamed_tool_calls_survive_merging() -> None:
    script = AIMessage(
        content="checking",
        tool_calls=[
            {"name": "lookup_invoice", "args": {"invoice_id": "INV-7"}, "id": None},
            {"name": "issue_refund", "args": {"invoice_id": "INV-8"}, "id": "fixed"},
        ],
    )
    ours = await _collect(FakeChatModel(responses=[script]).bind_tools([lookup_invoice, issue_refund]), "q")
    merged = sum(ours[1:], ours[0])
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("lookup_invoice", {"invoice_id": "INV-7"}),
        ("issue_refund", {"invoice_id": "INV-8"}),
    ]
    assert merged.tool_calls[1]["id"] == "fixed"
    assert any(c.tool_call_chunks for c in ours)
    # the reason this class exists: langchain-core's generic fake drops them when streaming
    generic = [c async for c in GenericFakeChatModel(messages=iter([script])).astream("q")]
    assert sum(generic[1:], generic[0]).tool_calls == []


async def test_delay_spreads_chunks_over_time() -> None:
    model = FakeChatModel(responses=["w1 w2 w3 w4 w5"], delay_s=0.03)
    stamps = []
    async for _ in model.astream("hi"):
        stamps.append(time.perf_counter())
    assert len(stamps) == 5
    assert stamps[-1] - stamps[0] >= 4 * 0.03 * 0.9
    assert all(b - a >= 0.02 for a, b in zip(stamps, stamps[1:], strict=False))


def test_sync_stream_matches_invoke() -> None:
    model = FakeChatModel(responses=["same answer here"])
    streamed = "".join(c.content for c in model.stream("x"))
    assert streamed == model.invoke("x").content == "same answer here"


def test_split_tokens_roundtrips() -> None:
    for text in ["", " lead", "trail ", "a\tb\n\nc", "one"]:
        assert "".join(split_tokens(text)) == text


def test_needs_a_script() -> None:
    with pytest.raises(ValueError, match="responses"):
        FakeChatModel()
    with pytest.raises(ValueError, match="str or AIMessage"):
        FakeChatModel(responses=[42])


def test_select_returns_fake_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.ENV_FAKE_MODEL, raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake = FakeChatModel(responses=["x"])
    assert select_chat_model("openai", "gpt-4o-mini", fake=fake) is fake
    assert select_chat_model("custom", "anything", fake=fake) is fake


class _RealStandIn(FakeChatModel):
    model: str = ""


def test_select_uses_the_integration_when_key_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.ENV_FAKE_MODEL, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setitem(sys.modules, "langchain_anthropic", types.SimpleNamespace(ChatAnthropic=_RealStandIn))
    fake = FakeChatModel(responses=["fake"])
    chosen = select_chat_model("anthropic", "claude-x", fake=fake, responses=["real"])
    assert isinstance(chosen, _RealStandIn)
    assert chosen.model == "claude-x"
    assert chosen.invoke("q").content == "real"
    monkeypatch.setenv(settings.ENV_FAKE_MODEL, "1")
    assert select_chat_model("anthropic", "claude-x", fake=fake, responses=["real"]) is fake


def test_select_falls_back_when_integration_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.ENV_FAKE_MODEL, raising=False)
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:1")
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)  # import raises ImportError
    fake = FakeChatModel(responses=["x"])
    assert select_chat_model("ollama", "llama3", fake=fake) is fake
