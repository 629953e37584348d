"""A traced run: the gate handler reports graph nodes, tools and model calls to ``ctx.steps``
(``agentdock.telemetry.recorder.RunSteps``), and tracing adds no callback handler of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from adapter_graphs import tool_loop
from agentdock.adapters import RunContext, get_adapter
from agentdock.adapters.callbacks import RunHandler, run_config
from langgraph.graph import END, START, MessagesState, StateGraph

from agentdock.telemetry.recorder import RunSteps
from agentdock.telemetry.run import RunRecord

pytestmark = pytest.mark.unit
lg = get_adapter("langgraph")


def traced(record: RunRecord) -> RunContext:
    return RunContext(trace_id="t", steps=RunSteps(record))


async def run(agent: Any, mode: str, ctx: RunContext) -> None:
    if mode == "invoke":
        await lg.invoke(agent, {"messages": "go"}, ctx)
    else:
        async for _ in lg.stream(agent, {"messages": "go"}, ctx):
            pass


@pytest.mark.parametrize("async_tool", [False, True])
@pytest.mark.parametrize("mode", ["invoke", "stream"])
async def test_nodes_tools_and_model_calls_are_recorded(tmp_path: Path, async_tool: bool, mode: str) -> None:
    graph, _ = tool_loop(tmp_path / "side-effect.txt", async_tool=async_tool)
    record = RunRecord("a" * 32, "/invoke", "POST")
    await run(lg.prepare(graph, {}), mode, traced(record))

    steps = sorted(record.steps, key=lambda s: s.start_ns)
    assert [(s.kind, s.name) for s in steps] == [
        ("node", "agent"),
        ("generation", "agentdock-fake"),
        ("node", "tools"),
        ("tool", "write_file"),
        ("node", "agent"),
        ("generation", "agentdock-fake"),
    ]
    assert all(s.end_ns >= s.start_ns > 0 and s.error is None for s in steps)
    tool = steps[3]
    assert tool.input == {"text": "payload"} and tool.output == "written"
    generations = [s for s in steps if s.kind == "generation"]
    assert all(g.input_tokens > 0 and g.output_tokens > 0 for g in generations)
    # nested: each tool and model call lies within the time span of a node
    nodes = [s for s in steps if s.kind == "node"]
    for step in steps:
        if step.kind != "node":
            assert any(n.start_ns <= step.start_ns and step.end_ns <= n.end_ns for n in nodes)


async def test_a_failing_node_is_recorded_with_its_error() -> None:
    async def explode(state: MessagesState) -> dict[str, Any]:
        raise RuntimeError("node exploded")

    graph = StateGraph(MessagesState)
    graph.add_node("explode", explode)
    graph.add_edge(START, "explode")
    graph.add_edge("explode", END)
    record = RunRecord("b" * 32, "/invoke", "POST")
    with pytest.raises(RuntimeError):
        await lg.invoke(lg.prepare(graph.compile(), {}), {"messages": "x"}, traced(record))
    assert [(s.kind, s.name, s.error) for s in record.steps] == [("node", "explode", "RuntimeError")]


async def test_tracing_adds_no_handler_and_untraced_runs_skip_chain_events() -> None:
    plain = RunContext(trace_id="t")
    with_steps = traced(RunRecord("c" * 32, "/invoke", "POST"))
    for ctx in (plain, with_steps):
        handler = RunHandler(ctx)
        config, _ = run_config(ctx, handler, {})
        assert config["callbacks"] == handler.handlers and len(handler.handlers) == 1
    assert RunHandler(plain).handlers[0].ignore_chain
    assert not RunHandler(with_steps).handlers[0].ignore_chain
