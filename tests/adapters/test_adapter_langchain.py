"""LangChain adapter: the lc_translator example, tool gating on a Runnable, mapping, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from adapter_examples import example_config
from adapter_graphs import spec_with_io
from agentdock.adapters import Event, RunContext, get_adapter
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

from agentdock.errors import SchemaMismatchError, ToolDenied
from agentdock.testing.fake_chat import FakeChatModel

pytestmark = pytest.mark.unit
lc = get_adapter("langchain")


def translator() -> Any:
    config = example_config("lc_translator")
    return lc.load(config["spec"].agent.entrypoint, config)


async def test_translator_invoke(make_ctx) -> None:
    agent = translator()
    out = await lc.invoke(
        agent, {"text": "Hello world, the invoice is paid.", "target_language": "German"}, make_ctx()
    )
    assert out == {"translation": "hallo Welt, die Rechnung ist bezahlt."}
    assert await lc.invoke(agent, {"text": "Good morning"}, make_ctx()) == {"translation": "bon matin"}


async def test_translator_stream_sends_tokens_then_end(make_ctx) -> None:
    ctx = make_ctx()
    events = [
        e
        async for e in lc.stream(translator(), {"text": "thank you world", "target_language": "Spanish"}, ctx)
    ]
    kinds = [e.type for e in events]
    assert kinds == ["start", "token", "token", "token", "usage", "end"]
    assert [e.data["text"] for e in events if e.type == "token"] == ["gracias ", "usted ", "mundo"]
    assert events[-1] == Event("end", {"output": {"translation": "gracias usted mundo"}})
    assert ctx.usage["output_tokens"] == 3


async def test_concurrent_translations(make_ctx) -> None:
    agent = translator()
    languages = ["French", "German", "Spanish"] * 4
    results = await asyncio.gather(
        *(lc.invoke(agent, {"text": "hello", "target_language": lang}, make_ctx()) for lang in languages)
    )
    expected = {"French": "bonjour", "German": "hallo", "Spanish": "hola"}
    assert [r["translation"] for r in results] == [expected[lang] for lang in languages]


def _writer_chain(target: Path, *, async_tool: bool) -> Any:
    if async_tool:

        @tool
        async def save_note(text: str) -> str:
            """Save a note."""
            target.write_text(text)
            return "saved"

    else:

        @tool
        def save_note(text: str) -> str:
            """Save a note."""
            target.write_text(text)
            return "saved"

    return RunnableLambda(lambda d: {"text": d["note"]}) | save_note


@pytest.mark.parametrize("async_tool", [False, True], ids=["sync-tool", "async-tool"])
async def test_tool_in_a_chain_is_gated(tmp_path: Path, async_tool: bool) -> None:
    target = tmp_path / "note.txt"
    agent = lc.prepare(
        _writer_chain(target, async_tool=async_tool),
        {"spec": spec_with_io({"note": "string"}, {"result": "string"})},
    )
    denied = ToolDenied("notes are read-only")
    seen: list[tuple[str, dict[str, Any]]] = []

    async def deny(name: str, args: dict[str, Any]) -> None:
        seen.append((name, args))
        raise denied

    with pytest.raises(ToolDenied) as info:
        await lc.invoke(agent, {"note": "hi"}, RunContext("t", on_tool_start=deny))
    assert info.value is denied
    with pytest.raises(ToolDenied) as info:
        async for _ in lc.stream(agent, {"note": "hi"}, RunContext("t", on_tool_start=deny)):
            pass
    assert info.value is denied
    assert seen == [("save_note", {"text": "hi"})] * 2
    assert not target.exists()

    async def allow(name: str, args: dict[str, Any]) -> None:
        return None

    events = [e async for e in lc.stream(agent, {"note": "kept"}, RunContext("t", on_tool_start=allow))]
    assert [e.type for e in events] == ["start", "tool_start", "tool_end", "end"]
    assert events[1].data == {"name": "save_note", "args": {"text": "kept"}}
    assert events[2].data == {"name": "save_note", "output": "saved"}
    assert events[-1].data == {"output": {"result": "saved"}}
    assert target.read_text() == "kept"


async def test_message_and_dict_results_map_to_fields(make_ctx) -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    model = FakeChatModel(respond=lambda m: "re: " + m[-1].text)
    as_message = lc.prepare(
        prompt | model, {"spec": spec_with_io({"question": "string"}, {"answer": "string"})}
    )
    assert await lc.invoke(as_message, {"question": "why"}, make_ctx()) == {"answer": "re: why"}
    events = [e async for e in lc.stream(as_message, {"question": "why"}, make_ctx())]
    assert events[-1].data == {"output": {"answer": "re: why"}}

    as_dict = lc.prepare(
        RunnableLambda(lambda d: {"n": len(d["question"]), "extra": 1}),
        {"spec": spec_with_io({"question": "string"}, {"n": "integer"})},
    )
    assert await lc.invoke(as_dict, {"question": "four"}, make_ctx()) == {"n": 4}


async def test_text_result_needs_exactly_one_string_field(make_ctx) -> None:
    agent = lc.prepare(
        RunnableLambda(lambda d: "text"),
        {"spec": spec_with_io({"q": "string"}, {"a": "string", "b": "string"})},
    )
    with pytest.raises(SchemaMismatchError, match="2 string fields"):
        await lc.invoke(agent, {"q": "x"}, make_ctx())


async def test_errors_propagate(make_ctx) -> None:
    def boom(data: dict[str, Any]) -> str:
        raise ValueError("bad input")

    agent = lc.prepare(RunnableLambda(boom), {})
    with pytest.raises(ValueError, match="bad input"):
        await lc.invoke(agent, {"q": 1}, make_ctx())
    seen = []
    with pytest.raises(ValueError, match="bad input"):
        async for event in lc.stream(agent, {"q": 1}, make_ctx()):
            seen.append(event.type)
    assert seen == ["start"]


CHAIN_MODULE = """
from langchain_core.runnables import RunnableLambda

chain = RunnableLambda(lambda d: "chain:" + d["q"])

def make_chain():
    return RunnableLambda(lambda d: "factory:" + d["q"])

def plain(data):
    return "plain:" + data["q"]
"""


@pytest.mark.parametrize(
    ("attr", "prefix"), [("chain", "chain"), ("make_chain", "factory"), ("plain", "plain")]
)
async def test_load_runnable_factory_or_function(tmp_path: Path, attr: str, prefix: str, make_ctx) -> None:
    (tmp_path / "lc_entry_mod.py").write_text(CHAIN_MODULE)
    spec = spec_with_io({"q": "string"}, {"a": "string"}, framework="langchain")
    agent = lc.load(f"lc_entry_mod:{attr}", {"base_dir": str(tmp_path), "spec": spec})
    assert await lc.invoke(agent, {"q": "x"}, make_ctx()) == {"a": f"{prefix}:x"}


def test_ai_message_helper_roundtrip() -> None:
    """A Runnable returning AIMessage directly maps like a str (no spec: the 'output' key)."""
    agent = lc.prepare(RunnableLambda(lambda d: AIMessage(content="plain")), {})
    assert asyncio.run(lc.invoke(agent, {}, RunContext("t"))) == {"output": "plain"}
