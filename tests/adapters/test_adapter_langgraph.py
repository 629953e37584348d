"""LangGraph adapter on the real examples: mapping, streaming, tool gating, errors, concurrency."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from adapter_examples import example_config
from adapter_graphs import echo_graph, spec_with_io, tool_loop
from agentdock.adapters import Event, RunContext, get_adapter
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph

from agentdock.errors import EntrypointNotFoundError, ToolDenied

pytestmark = pytest.mark.unit
lg = get_adapter("langgraph")


def load(example: str) -> Any:
    config = example_config(example)
    return lg.load(config["spec"].agent.entrypoint, config)


async def events_of(agent: Any, data: dict[str, Any], ctx: RunContext) -> list[Event]:
    return [event async for event in lg.stream(agent, data, ctx)]


def types(events: list[Event]) -> list[str]:
    return [e.type for e in events]


# -- doc_summarizer (plain state graph) --------------------------------------------------------


async def test_summarizer_invoke_maps_state_keys(make_ctx) -> None:
    agent = load("doc_summarizer")
    text = "Serverless agents scale to zero when idle. Nobody pays for idle time."
    assert await lg.invoke(agent, {"text": text, "max_words": 3}, make_ctx()) == {
        "summary": "Serverless agents scale..."
    }
    other = await lg.invoke(agent, {"text": "Short input here."}, make_ctx())
    assert other == {"summary": "Short input here."}


async def test_summarizer_stream_events(make_ctx) -> None:
    agent = load("doc_summarizer")
    ctx = make_ctx()
    events = await events_of(agent, {"text": "One two three four five. Six."}, ctx)
    kinds = types(events)
    assert kinds[0] == "start" and kinds[-2:] == ["usage", "end"]
    tokens = [e.data["text"] for e in events if e.type == "token"]
    assert tokens == ["One ", "two ", "three ", "four ", "five."]
    assert events[-1].data == {"output": {"summary": "One two three four five."}}
    assert Event("update", {"node": "summarize", "keys": ["summary"]}) in events
    assert kinds.index("update") > max(i for i, k in enumerate(kinds) if k == "token")
    usage = events[-2].data
    assert usage["output_tokens"] == 5 and usage["input_tokens"] > 5
    assert ctx.usage == usage
    assert events[0].data["run_id"]


# -- invoice_copilot (message graph + ToolNode + tool gate) ----------------------------------------


async def test_invoice_invoke_allowed_tool(make_ctx, gate, ledger: Path) -> None:
    agent = load("invoice_copilot")
    ctx = make_ctx()
    out = await lg.invoke(agent, {"question": "What is the total of invoice INV-1001?"}, ctx)
    assert set(out) == {"answer"}
    assert "1250.00 EUR" in out["answer"] and "4111111111111111" in out["answer"]
    assert gate.seen == [("lookup_invoice", {"invoice_id": "INV-1001"})]
    assert ctx.usage["input_tokens"] > 0 and ctx.usage["output_tokens"] > 0
    assert not ledger.exists()


async def test_invoice_stream_event_order(make_ctx, gate) -> None:
    agent = load("invoice_copilot")
    events = await events_of(agent, {"question": "Status of INV-1002?"}, make_ctx())
    kinds = types(events)
    assert kinds[0] == "start" and kinds[-1] == "end"
    start = kinds.index("tool_start")
    assert events[start].data == {"name": "lookup_invoice", "args": {"invoice_id": "INV-1002"}}
    end = kinds.index("tool_end")
    assert events[end].data["name"] == "lookup_invoice" and "Globex" in events[end].data["output"]
    tools_update = events.index(Event("update", {"node": "tools", "keys": ["messages"]}))
    first_token = kinds.index("token")
    assert kinds.index("update") < start < end < tools_update < first_token
    text = "".join(e.data["text"] for e in events if e.type == "token")
    assert text == events[-1].data["output"]["answer"]
    assert "89.90 USD" in text


async def test_denied_tool_never_runs_on_invoke(make_ctx, gate, ledger: Path) -> None:
    agent = load("invoice_copilot")
    with pytest.raises(ToolDenied) as info:
        await lg.invoke(agent, {"question": "Please refund INV-1001"}, make_ctx())
    assert info.value is gate.raised[0]
    assert [name for name, _ in gate.seen] == ["issue_refund"]
    assert gate.seen[0][1] == {"invoice_id": "INV-1001", "amount": "1250.00"}
    assert not ledger.exists()


async def test_denied_tool_never_runs_on_stream(make_ctx, gate, ledger: Path) -> None:
    agent = load("invoice_copilot")
    seen: list[Event] = []
    with pytest.raises(ToolDenied) as info:
        async for event in lg.stream(agent, {"question": "I want a refund for INV-1002"}, make_ctx()):
            seen.append(event)
    assert info.value is gate.raised[0]
    assert types(seen)[0] == "start"
    assert "end" not in types(seen) and "tool_start" not in types(seen)
    assert not ledger.exists()


async def test_without_a_gate_the_refund_tool_really_writes(make_ctx, ledger: Path) -> None:
    """Proves the ledger check above can fail: the tool body does write when nothing stops it."""
    agent = load("invoice_copilot")
    out = await lg.invoke(agent, {"question": "refund INV-1002"}, make_ctx(hook=None))
    assert out == {"answer": "Done: refunded 89.90 on INV-1002."}
    assert ledger.read_text().strip() == '{"invoice_id": "INV-1002", "amount": "89.90"}'


@pytest.mark.parametrize("async_tool", [False, True], ids=["sync-tool", "async-tool"])
@pytest.mark.parametrize("mode", ["invoke", "stream"])
async def test_gate_runs_before_body(tmp_path: Path, make_ctx, async_tool: bool, mode: str) -> None:
    target = tmp_path / "side-effect.txt"
    graph, _ = tool_loop(target, async_tool=async_tool)
    agent = lg.prepare(graph, {})
    denied = ToolDenied("no writes")

    async def deny(name: str, args: dict[str, Any]) -> None:
        raise denied

    with pytest.raises(ToolDenied) as info:
        if mode == "invoke":
            await lg.invoke(agent, {"messages": "go"}, RunContext("t", on_tool_start=deny))
        else:
            await events_of(agent, {"messages": "go"}, RunContext("t", on_tool_start=deny))
    assert info.value is denied
    assert not target.exists()
    # and the same graph with an allowing gate does run the body
    allowed = await lg.invoke(agent, {"messages": "go"}, make_ctx(hook=None))
    assert allowed == {"output": "finished: written"}
    assert target.read_text() == "payload"


async def test_denial_swallowed_by_toolnode_still_aborts(tmp_path: Path) -> None:
    target = tmp_path / "side-effect.txt"
    graph, model_calls = tool_loop(target, swallow_errors=True)
    denied = ToolDenied("no writes")

    async def deny(name: str, args: dict[str, Any]) -> None:
        raise denied

    with pytest.raises(ToolDenied) as info:
        await lg.invoke(lg.prepare(graph, {}), {"messages": "go"}, RunContext("t", on_tool_start=deny))
    assert info.value is denied
    assert not target.exists()
    assert len(model_calls) == 1  # the model was not asked again after the denial


def _failing_graph() -> Any:
    async def explode(state: MessagesState) -> dict[str, Any]:
        raise RuntimeError("node exploded")

    graph = StateGraph(MessagesState)
    graph.add_node("explode", explode)
    graph.add_edge(START, "explode")
    graph.add_edge("explode", END)
    return graph.compile()


async def test_graph_error_propagates(make_ctx) -> None:
    agent = lg.prepare(_failing_graph(), {})
    with pytest.raises(RuntimeError, match="node exploded"):
        await lg.invoke(agent, {"question": "x"}, make_ctx())
    seen: list[Event] = []
    with pytest.raises(RuntimeError, match="node exploded"):
        async for event in lg.stream(agent, {"question": "x"}, make_ctx()):
            seen.append(event)
    assert types(seen) == ["start"]


# -- concurrency, timing ----------------------------------------------------------------------


async def test_concurrent_invokes_are_independent(make_ctx) -> None:
    summarizer, copilot = load("doc_summarizer"), load("invoice_copilot")
    texts = [f"Document number {i} talks about topic {i * 7}. Filler." for i in range(20)]
    questions = ["total of INV-1001?" if i % 2 else "total of INV-1002?" for i in range(20)]
    results = await asyncio.gather(
        *(lg.invoke(summarizer, {"text": t}, make_ctx()) for t in texts),
        *(lg.invoke(copilot, {"question": q}, make_ctx()) for q in questions),
    )
    assert results[:20] == [{"summary": t.split(". ")[0] + "."} for t in texts]
    for question, out in zip(questions, results[20:], strict=True):
        assert ("1250.00 EUR" if "1001" in question else "89.90 USD") in out["answer"]


async def test_concurrent_streams_keep_their_own_tokens() -> None:
    agent = lg.prepare(echo_graph(delay_s=0.005), {})
    words = [f"alpha{i} beta{i} gamma{i}" for i in range(6)]

    async def run(text: str) -> tuple[str, dict[str, Any]]:
        events = await events_of(agent, {"messages": text}, RunContext("t"))
        return "".join(e.data["text"] for e in events if e.type == "token"), events[-1].data

    for text, (tokens, end) in zip(words, await asyncio.gather(*(run(w) for w in words)), strict=True):
        assert tokens == "you said: " + text
        assert end == {"output": {"output": "you said: " + text}}


async def test_tokens_are_sent_as_they_are_produced() -> None:
    agent = lg.prepare(echo_graph(delay_s=0.05), {})
    stamps: list[float] = []
    async for event in lg.stream(agent, {"messages": "a b c d"}, RunContext("t")):
        if event.type == "token":
            stamps.append(time.perf_counter())
    assert len(stamps) == 6  # "you ", "said: ", "a ", "b ", "c ", "d"
    assert stamps[-1] - stamps[0] >= 5 * 0.05 * 0.8
    assert min(b - a for a, b in zip(stamps, stamps[1:], strict=False)) >= 0.03


async def test_closing_a_stream_early_cancels_the_run() -> None:
    agent = lg.prepare(echo_graph(delay_s=0.05), {})
    before = asyncio.all_tasks()
    stream = lg.stream(agent, {"messages": "w " * 50}, RunContext("t"))
    async for event in stream:
        if event.type == "token":
            break
    await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


# -- loading and mapping --------------------------------------------------------------------------

MODULE = """
from langgraph.graph import END, START, MessagesState, StateGraph
from langchain_core.messages import AIMessage

def reply(state):
    return {"messages": [AIMessage(content="hello from {tag}")]}

def builder():
    graph = StateGraph(MessagesState)
    graph.add_node("reply", reply)
    graph.add_edge(START, "reply")
    graph.add_edge("reply", END)
    return graph

uncompiled = builder()
compiled = builder().compile()
calls = []

def factory():
    calls.append(1)
    return builder().compile()

def wrong_factory():
    return 42
"""


@pytest.mark.parametrize("attr", ["compiled", "uncompiled", "factory", "builder"])
async def test_load_accepts_graph_statesgraph_or_factory(tmp_path: Path, attr: str, make_ctx) -> None:
    module = f"lg_entry_{attr}"
    (tmp_path / f"{module}.py").write_text(MODULE.replace("{tag}", attr))
    spec = spec_with_io({"question": "string"}, {"answer": "string"})
    agent = lg.load(f"{module}:{attr}", {"base_dir": str(tmp_path), "spec": spec})
    assert await lg.invoke(agent, {"question": "hi"}, make_ctx()) == {"answer": f"hello from {attr}"}


async def test_factory_is_called_once(tmp_path: Path, make_ctx) -> None:
    (tmp_path / "lg_entry_once.py").write_text(MODULE.replace("{tag}", "once"))
    agent = lg.load("lg_entry_once:factory", {"base_dir": str(tmp_path)})
    await asyncio.gather(*(lg.invoke(agent, {"question": "hi"}, make_ctx()) for _ in range(5)))
    import lg_entry_once  # type: ignore[import-not-found]

    assert lg_entry_once.calls == [1]


@pytest.mark.parametrize(
    ("entrypoint", "message"),
    [
        ("lg_entry_bad:missing", "has no attribute 'missing'"),
        ("lg_entry_bad:wrong_factory", "returned int"),
        ("lg_entry_nope:compiled", "module 'lg_entry_nope' not found"),
    ],
)
def test_load_errors_are_4003(tmp_path: Path, entrypoint: str, message: str) -> None:
    (tmp_path / "lg_entry_bad.py").write_text(MODULE.replace("{tag}", "bad"))
    with pytest.raises(EntrypointNotFoundError) as info:
        lg.load(entrypoint, {"base_dir": str(tmp_path)})
    assert info.value.code == 4003 and message in info.value.cause
    assert info.value.path == "agent.entrypoint"


class CustomerState(MessagesState):
    customer: str
    priority: int


def _customer_graph() -> Any:
    async def reply(state: CustomerState) -> dict[str, Any]:
        human = [m for m in state["messages"] if isinstance(m, HumanMessage)]
        text = f"{state['customer']}/{state.get('priority')}: {human[-1].text}"
        return {"messages": [AIMessage(content=text)], "customer": state["customer"].upper()}

    graph = StateGraph(CustomerState)
    graph.add_node("reply", reply)
    graph.add_edge(START, "reply")
    graph.add_edge("reply", END)
    return graph.compile()


async def test_message_field_extra_state_keys_and_output_mapping(make_ctx) -> None:
    spec = spec_with_io(
        {"query": "string", "customer": "string", "priority": "integer"},
        {"answer": "string", "customer": "string"},
    )
    agent = lg.prepare(_customer_graph(), {"spec": spec})
    out = await lg.invoke(
        agent, {"query": "where is my refund", "customer": "acme", "priority": 2}, make_ctx()
    )
    assert out == {"answer": "acme/2: where is my refund", "customer": "ACME"}


async def test_only_string_field_becomes_the_message(make_ctx) -> None:
    spec = spec_with_io({"prompt": "string", "priority": "integer"}, {"reply": "string"})
    agent = lg.prepare(echo_graph(), {"spec": spec})
    assert await lg.invoke(agent, {"prompt": "ping", "priority": 1}, make_ctx()) == {
        "reply": "you said: ping"
    }


async def test_messages_list_passes_through(make_ctx) -> None:
    agent = lg.prepare(echo_graph(), {"spec": spec_with_io({"messages": "array"}, {"reply": "string"})})
    history: list[BaseMessage | dict[str, str]] = [
        {"role": "user", "content": "earlier"},
        HumanMessage("now"),
    ]
    assert await lg.invoke(agent, {"messages": history}, make_ctx()) == {"reply": "you said: now"}


# -- the run's config ----------------------------------------------------------------------------


async def test_run_id_and_trace_metadata_only_reach_a_traced_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without other callbacks the config carries the gate and the Dockfile's keys only; with a
    tracer (or when asked) it also gets the run id and ``agentdock_trace_id``."""
    from agentdock.adapters.callbacks import RunHandler, run_config
    from langchain_core.callbacks import BaseCallbackHandler

    for name in ("LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", "LANGSMITH_TRACING", "LANGCHAIN_TRACING"):
        monkeypatch.delenv(name, raising=False)
    base = {"metadata": {"team": "a"}, "recursion_limit": 9}
    ctx = RunContext("trace-1")
    handler = RunHandler(ctx)
    config, run_id = run_config(ctx, handler, base)
    assert run_id == "" and "run_id" not in config
    assert config["metadata"] == {"team": "a"} and config["recursion_limit"] == 9
    assert config["callbacks"] == handler.handlers

    config, run_id = run_config(ctx, handler, base, run_id=True)
    assert str(config["run_id"]) == run_id != ""
    assert config["metadata"] == {"team": "a", "agentdock_trace_id": "trace-1"}

    tracer = BaseCallbackHandler()
    traced = RunContext("trace-2", config={"callbacks": [tracer]})
    config, run_id = run_config(traced, RunHandler(traced), base)
    assert run_id and config["callbacks"][-1] is tracer
    assert config["metadata"]["agentdock_trace_id"] == "trace-2"

    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    config, run_id = run_config(ctx, handler, base)
    assert run_id and config["metadata"]["agentdock_trace_id"] == "trace-1"
