"""``AsyncDynamoDBSaver`` against the moto server over HTTP: LangGraph's checkpointer behaviour
(put/get/list/writes/delete, parents, limit/before, metadata filters), a real graph's runs, the
400 KB item limit, and the least-privilege statement that lets a function write its thread items.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.base import create_checkpoint, empty_checkpoint
from langgraph.graph import END, START, StateGraph

from agentdock.errors import CheckpointTooLarge
from agentdock.store.checkpoint import open_checkpointer
from agentdock.store.dynamo_checkpoint import AsyncDynamoDBSaver
from agentdock.store.dynamo_policy import runtime_statements
from agentdock.store.dynamodb import DynamoDBStore

pytestmark = pytest.mark.integration


async def _fresh_saver(moto_server: str) -> AsyncIterator[AsyncDynamoDBSaver]:
    """The saver on a new metadata table (``store init``, as a user runs it)."""
    url = f"dynamodb://ckpt-{uuid.uuid4().hex[:10]}?region=us-east-1&endpoint_url={moto_server}"
    store = DynamoDBStore(url)
    store.init()
    store.close()
    async with open_checkpointer(url) as opened:
        assert isinstance(opened, AsyncDynamoDBSaver)
        yield opened


@pytest.fixture
async def saver(moto_server: str) -> AsyncIterator[AsyncDynamoDBSaver]:
    async for opened in _fresh_saver(moto_server):
        yield opened


def _config(thread: str, ns: str = "", checkpoint_id: str | None = None) -> Any:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ns}
    if checkpoint_id:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


async def _chain(saver: AsyncDynamoDBSaver, thread: str, n: int, **meta: Any) -> list[Any]:
    """``n`` checkpoints on ``thread``, each the parent of the next; their saved configs."""
    configs, parent, checkpoint = [], _config(thread), empty_checkpoint()
    for step in range(n):
        checkpoint = create_checkpoint(checkpoint, None, step)
        parent = await saver.aput(parent, checkpoint, {"source": "loop", "step": step, **meta}, {})
        configs.append(parent)
    return configs


async def test_put_get_parents_and_writes(saver: AsyncDynamoDBSaver) -> None:
    first, second = await _chain(saver, "t1", 2, owner="alice")
    latest = await saver.aget_tuple(_config("t1"))
    assert latest is not None and latest.config == second
    assert latest.parent_config == first and latest.metadata["owner"] == "alice"
    older = await saver.aget_tuple(first)
    assert older is not None and older.parent_config is None and older.metadata["step"] == 0
    assert await saver.aget_tuple(_config("nope")) is None
    assert await saver.aget_tuple(_config("t1", checkpoint_id="missing")) is None

    await saver.aput_writes(second, [("a", {"x": 1}), ("b", [1, 2])], "task-2", "p")
    await saver.aput_writes(second, [("a", "later")], "task-1", "p")
    await saver.aput_writes(second, [("a", "retried")], "task-1", "p")  # kept as first written
    await saver.aput_writes(second, [("__error__", "boom")], "task-2", "p")
    await saver.aput_writes(second, [("__error__", "boom again")], "task-2", "p")  # special: replaced
    got = await saver.aget_tuple(second)
    assert got is not None
    assert got.pending_writes == [
        ("task-1", "a", "later"),
        ("task-2", "__error__", "boom again"),
        ("task-2", "a", {"x": 1}),
        ("task-2", "b", [1, 2]),
    ]
    assert (await saver.aget_tuple(first)).pending_writes == []  # type: ignore[union-attr]


async def test_list_limit_before_filter_and_namespaces(saver: AsyncDynamoDBSaver) -> None:
    configs = await _chain(saver, "t2", 5, owner="alice")
    await _chain(saver, "t3", 2, owner="bob")
    sub = create_checkpoint(empty_checkpoint(), None, 0)
    await saver.aput(_config("t2", ns="child:1"), sub, {"source": "loop", "step": 0}, {})

    ids = [c["configurable"]["checkpoint_id"] for c in configs]
    listed = [t.checkpoint["id"] async for t in saver.alist(_config("t2"))]
    assert listed == ids[::-1]  # newest first, root namespace only
    assert [t.checkpoint["id"] async for t in saver.alist(_config("t2"), limit=2)] == ids[:2:-1]
    before = [t.checkpoint["id"] async for t in saver.alist(_config("t2"), before=configs[2], limit=1)]
    assert before == [ids[1]]
    assert [t.metadata["step"] async for t in saver.alist(_config("t2"), filter={"step": 3})] == [3]
    children = [t async for t in saver.alist(_config("t2", ns="child:1"))]
    assert [t.config["configurable"]["checkpoint_ns"] for t in children] == ["child:1"]
    all_ns = [t async for t in saver.alist({"configurable": {"thread_id": "t2"}})]
    assert len(all_ns) == 6

    # across threads (the thread search): every checkpoint, newest first, filterable
    bob = [t.config["configurable"]["thread_id"] async for t in saver.alist(None, filter={"owner": "bob"})]
    assert bob == ["t3", "t3"]
    assert len([t async for t in saver.alist(None, limit=3)]) == 3
    assert len([t async for t in saver.alist(None)]) == 8


async def test_delete_thread_removes_only_that_thread(saver: AsyncDynamoDBSaver) -> None:
    # more than one BatchWriteItem (25) of checkpoints and writes
    configs = await _chain(saver, "gone", 14)
    for config in configs:
        await saver.aput_writes(config, [("a", 1)], "task")
    await _chain(saver, "kept", 1)
    await saver.adelete_thread("gone")
    assert await saver.aget_tuple(_config("gone")) is None
    assert [t async for t in saver.alist(_config("gone"))] == []
    assert saver.io.query_prefix("THREAD#gone", "") == []
    assert await saver.aget_tuple(_config("kept")) is not None


class _State(TypedDict):
    items: Annotated[list[str], operator.add]


async def test_a_graph_keeps_state_across_runs(saver: AsyncDynamoDBSaver) -> None:
    builder = StateGraph(_State)
    builder.add_node("echo", lambda state: {"items": [f"seen {len(state['items'])}"]})
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    graph = builder.compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "g"}}
    await graph.ainvoke({"items": ["a"]}, config)
    out = await graph.ainvoke({"items": ["b"]}, config)
    assert out["items"] == ["a", "seen 1", "b", "seen 3"]
    history = [s async for s in graph.aget_state_history(config)]
    assert len(history) == 6 and history[0].values == out


async def test_an_item_over_400_kb_is_refused_clearly(saver: AsyncDynamoDBSaver) -> None:
    checkpoint = create_checkpoint(empty_checkpoint(), None, 0)
    checkpoint["channel_values"] = {"blob": "x" * (410 * 1024)}
    with pytest.raises(CheckpointTooLarge) as refused:
        await saver.aput(_config("big"), checkpoint, {"source": "loop", "step": 0}, {})
    assert refused.value.code == 5107 and "400 KB" in str(refused.value) and refused.value.hint
    ok = await _chain(saver, "big", 1)
    with pytest.raises(CheckpointTooLarge):
        await saver.aput_writes(ok[0], [("blob", "y" * (410 * 1024))], "task")


def test_the_runtime_policy_grants_thread_items_only_with_threads() -> None:
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/agentdock-meta"
    plain = {s["Sid"] for s in runtime_statements(table)}
    assert "ThreadCheckpoints" not in plain
    by_sid = {s["Sid"]: s for s in runtime_statements(table, threads=True)}
    threads = by_sid["ThreadCheckpoints"]
    assert threads["Resource"] == [table]  # the table only: GSI reads are MetadataRead's
    assert threads["Action"] == ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem"]
    assert threads["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["THREAD#*"]}}
    assert by_sid["MetadataRuntimeWrites"]["Condition"]["ForAllValues:StringLike"] == {
        "dynamodb:LeadingKeys": ["CTR#*", "KEY#*"]
    }


async def test_langgraphs_own_conformance_suite_passes(moto_server: str) -> None:
    """``langgraph-checkpoint-conformance`` (LangGraph's checkpointer spec): every base capability
    (put, put_writes, get_tuple, list, delete_thread), a fresh table per capability suite."""
    from langgraph.checkpoint.conformance import checkpointer_test, validate

    @checkpointer_test(name="AsyncDynamoDBSaver")
    async def dynamodb_saver() -> AsyncIterator[AsyncDynamoDBSaver]:
        async for opened in _fresh_saver(moto_server):
            yield opened

    report = await validate(
        dynamodb_saver, capabilities={"put", "put_writes", "get_tuple", "list", "delete_thread"}
    )
    failures = {name: r.failures for name, r in report.results.items() if r.detected and not r.passed}
    ran = {name for name, r in report.results.items() if r.detected and r.passed}
    assert failures == {} and ran == {"put", "put_writes", "get_tuple", "list", "delete_thread"}
    assert sum(r.tests_passed for r in report.results.values()) > 50, report.results
