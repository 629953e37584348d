"""The tool gate on the less common ways a node can run a tool.

ToolNode and chains are covered in the adapter tests; these are nodes that call a tool
themselves: synchronously on the event loop (cannot be checked first: refused), on a worker
thread (sync path), and awaited on a worker thread's own event loop (async path, foreign loop).
Each must await ``ctx.on_tool_start`` before the tool body, and a denial must abort the run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import pytest
from agentdock.adapters import RunContext, get_adapter
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, tool
from langgraph.graph import END, START, StateGraph

from agentdock.errors import AgentError, ToolDenied

pytestmark = pytest.mark.unit
lg = get_adapter("langgraph")


class State(TypedDict, total=False):
    text: str
    result: str


def _writer(target: Path, *, async_tool: bool) -> BaseTool:
    if async_tool:

        @tool
        async def write_file(text: str) -> str:
            """Write text to the side-effect file."""
            target.write_text(text)
            return "written"

        return write_file

    @tool
    def write_file(text: str) -> str:  # noqa: F811 - the sync twin of the async tool above
        """Write text to the side-effect file."""
        target.write_text(text)
        return "written"

    return write_file


Runner = Callable[[BaseTool, dict[str, Any], RunnableConfig], Any]


def _graph(run_tool: Runner, tool_: BaseTool) -> Any:
    """START -> node -> END; the node runs the tool its own way with the node's config."""

    async def node(state: State, config: RunnableConfig) -> dict[str, str]:
        return {"result": str(await run_tool(tool_, {"text": state["text"]}, config))}

    graph = StateGraph(State)
    graph.add_node("node", node)
    graph.add_edge(START, "node")
    graph.add_edge("node", END)
    return lg.prepare(graph.compile(), {})


async def _on_loop_thread(tool_: BaseTool, args: dict[str, Any], config: RunnableConfig) -> Any:
    return tool_.invoke(args, config)


async def _in_worker_thread(tool_: BaseTool, args: dict[str, Any], config: RunnableConfig) -> Any:
    return await asyncio.to_thread(tool_.invoke, args, config)


async def _on_worker_loop(tool_: BaseTool, args: dict[str, Any], config: RunnableConfig) -> Any:
    return await asyncio.to_thread(asyncio.run, tool_.ainvoke(args, config))


def _deny_ctx(seen: list[str], denied: ToolDenied) -> RunContext:
    async def deny(name: str, args: dict[str, Any]) -> None:
        seen.append(name)
        raise denied

    return RunContext("t", on_tool_start=deny)


async def test_sync_tool_on_the_loop_thread_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    agent = _graph(_on_loop_thread, _writer(target, async_tool=False))
    with pytest.raises(AgentError, match="synchronously on the event loop"):
        await lg.invoke(agent, {"text": "x"}, _deny_ctx([], ToolDenied("no")))
    assert not target.exists()


@pytest.mark.parametrize(
    ("runner", "async_tool"),
    [(_in_worker_thread, False), (_on_worker_loop, True), (_on_worker_loop, False)],
    ids=["sync-tool-worker-thread", "async-tool-worker-loop", "sync-tool-worker-loop"],
)
async def test_tool_off_the_run_loop_is_gated_before_its_body(
    tmp_path: Path, runner: Runner, async_tool: bool
) -> None:
    target = tmp_path / "out.txt"
    agent = _graph(runner, _writer(target, async_tool=async_tool))
    seen: list[str] = []
    denied = ToolDenied("no writes")
    with pytest.raises(ToolDenied) as info:
        await lg.invoke(agent, {"text": "x"}, _deny_ctx(seen, denied))
    assert info.value is denied and seen == ["write_file"]
    assert not target.exists()

    checked: list[tuple[str, dict[str, Any]]] = []

    async def allow(name: str, args: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # really runs on the run's loop
        checked.append((name, args))

    events = [e async for e in lg.stream(agent, {"text": "kept"}, RunContext("t", on_tool_start=allow))]
    assert checked == [("write_file", {"text": "kept"})]
    assert [e.type for e in events if e.type.startswith("tool")] == ["tool_start", "tool_end"]
    assert events[-1].data == {"output": {"text": "kept", "result": "written"}}
    assert target.read_text() == "kept"


async def test_sync_tool_on_a_worker_thread_is_checked_in_place_with_check_tool(tmp_path: Path) -> None:
    """With ``ctx.check_tool`` (the hook's synchronous twin) a sync tool on a worker thread is
    checked right there, before its body, and the async hook is not awaited at all."""
    target = tmp_path / "out.txt"
    agent = _graph(_in_worker_thread, _writer(target, async_tool=False))
    loop_thread = threading.get_ident()
    checked: list[tuple[str, dict[str, Any], bool]] = []
    denied = ToolDenied("no writes")

    async def hook(name: str, args: dict[str, Any]) -> None:
        raise AssertionError("the async hook must not be awaited when check_tool is set")

    def deny(name: str, args: dict[str, Any]) -> None:
        checked.append((name, args, threading.get_ident() == loop_thread))
        raise denied

    with pytest.raises(ToolDenied) as info:
        await lg.invoke(agent, {"text": "x"}, RunContext("t", on_tool_start=hook, check_tool=deny))
    assert info.value is denied and checked == [("write_file", {"text": "x"}, False)]
    assert not target.exists()

    def allow(name: str, args: dict[str, Any]) -> None:
        checked.append((name, args, threading.get_ident() == loop_thread))

    checked.clear()
    ctx = RunContext("t", on_tool_start=hook, check_tool=allow)
    events = [e async for e in lg.stream(agent, {"text": "kept"}, ctx)]
    assert checked == [("write_file", {"text": "kept"}, False)]
    assert [e.type for e in events if e.type.startswith("tool")] == ["tool_start", "tool_end"]
    assert target.read_text() == "kept"


async def test_check_tool_does_not_make_a_sync_tool_on_the_loop_thread_acceptable(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    agent = _graph(_on_loop_thread, _writer(target, async_tool=False))
    ctx = RunContext(
        "t", on_tool_start=_deny_ctx([], ToolDenied("no")).on_tool_start, check_tool=lambda n, a: None
    )
    with pytest.raises(AgentError, match="synchronously on the event loop"):
        await lg.invoke(agent, {"text": "x"}, ctx)
    assert not target.exists()
