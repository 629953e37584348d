"""Callable adapter (plain functions, generators, ctx-aware tools) and the adapter registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from adapter_graphs import spec_with_io
from agentdock.adapters import ADAPTERS, RunContext, available_adapters, get_adapter

from agentdock.errors import EntrypointNotFoundError, ToolDenied, UnsupportedFrameworkError

pytestmark = pytest.mark.unit
fn_adapter = get_adapter("callable")

MODULE = """
import asyncio, time
from pathlib import Path

def sync_dict(data):
    return {"upper": data["text"].upper(), "ignored": True}

async def async_text(data):
    await asyncio.sleep(0)
    return "async:" + data["text"]

async def async_tokens(data):
    for word in data["text"].split():
        await asyncio.sleep(0.01)
        yield word + " "

def sync_tokens(data):
    for word in data["text"].split():
        time.sleep(0.001)
        yield word.upper() + " "

async def uses_tools(data, ctx):
    await ctx.on_tool_start("delete_file", {"path": data["text"]})
    Path(data["text"]).write_text("deleted")
    return "done"

def broken(data):
    raise KeyError("missing")

def factory():
    return sync_dict

def needs_two(a, b):
    return a

NOT_A_FUNCTION = 42
"""


@pytest.fixture
def entry(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "fn_entry_mod.py").write_text(MODULE)
    return {
        "base_dir": str(tmp_path),
        "spec": spec_with_io({"text": "string"}, {"upper": "string"}, "callable"),
    }


def _text_spec(base: dict[str, Any]) -> dict[str, Any]:
    return {**base, "spec": spec_with_io({"text": "string"}, {"reply": "string"}, "callable")}


@pytest.mark.parametrize(("attr", "expected"), [("sync_dict", "ABC D"), ("factory", "ABC D")])
async def test_dict_result(entry: dict[str, Any], attr: str, expected: str) -> None:
    agent = fn_adapter.load(f"fn_entry_mod:{attr}", entry)
    assert await fn_adapter.invoke(agent, {"text": "abc d"}, RunContext("t")) == {"upper": expected}


@pytest.mark.parametrize(
    ("attr", "reply", "tokens"),
    [
        ("async_text", "async:a b", ["async:a b"]),
        ("async_tokens", "a b ", ["a ", "b "]),
        ("sync_tokens", "A B ", ["A ", "B "]),
    ],
)
async def test_text_results_and_streams(
    entry: dict[str, Any], attr: str, reply: str, tokens: list[str]
) -> None:
    agent = fn_adapter.load(f"fn_entry_mod:{attr}", _text_spec(entry))
    assert await fn_adapter.invoke(agent, {"text": "a b"}, RunContext("t")) == {"reply": reply}
    events = [e async for e in fn_adapter.stream(agent, {"text": "a b"}, RunContext("t"))]
    assert [e.type for e in events] == ["start", *["token"] * len(tokens), "end"]
    assert [e.data["text"] for e in events if e.type == "token"] == tokens
    assert events[-1].data == {"output": {"reply": reply}}


async def test_ctx_tool_gate_stops_the_function(entry: dict[str, Any], tmp_path: Path) -> None:
    agent = fn_adapter.load("fn_entry_mod:uses_tools", _text_spec(entry))
    victim = tmp_path / "victim.txt"
    denied = ToolDenied("no deletes")

    async def deny(name: str, args: dict[str, Any]) -> None:
        assert (name, args) == ("delete_file", {"path": str(victim)})
        raise denied

    with pytest.raises(ToolDenied) as info:
        await fn_adapter.invoke(agent, {"text": str(victim)}, RunContext("t", on_tool_start=deny))
    assert info.value is denied and not victim.exists()
    with pytest.raises(ToolDenied):
        async for _ in fn_adapter.stream(agent, {"text": str(victim)}, RunContext("t", on_tool_start=deny)):
            pass
    assert not victim.exists()

    async def allow(name: str, args: dict[str, Any]) -> None:
        return None

    assert await fn_adapter.invoke(agent, {"text": str(victim)}, RunContext("t", on_tool_start=allow)) == {
        "reply": "done"
    }
    assert victim.read_text() == "deleted"


async def test_errors_propagate(entry: dict[str, Any]) -> None:
    agent = fn_adapter.load("fn_entry_mod:broken", entry)
    with pytest.raises(KeyError, match="missing"):
        await fn_adapter.invoke(agent, {"text": "x"}, RunContext("t"))
    with pytest.raises(KeyError, match="missing"):
        async for _ in fn_adapter.stream(agent, {"text": "x"}, RunContext("t")):
            pass


def test_load_rejects_a_non_agent(entry: dict[str, Any]) -> None:
    with pytest.raises(EntrypointNotFoundError, match="is a int, expected a function"):
        fn_adapter.load("fn_entry_mod:NOT_A_FUNCTION", entry)
    agent = fn_adapter.load("fn_entry_mod:needs_two", entry)  # two args: not a factory, used as is
    assert agent.runnable.__name__ == "needs_two"


def test_registry() -> None:
    assert set(ADAPTERS) <= set(available_adapters())
    for name in ("langgraph", "langchain", "callable"):
        assert get_adapter(name).name == name
    with pytest.raises(UnsupportedFrameworkError) as info:
        get_adapter("autogen")
    assert (
        info.value.code == 4007 and "langgraph" in info.value.cause and info.value.path == "agent.framework"
    )
