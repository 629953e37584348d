"""Threads persist in a LangGraph checkpointer on the store's backend: SQLite, the real Postgres
and DynamoDB (the moto server over HTTP, the metadata table itself).

A thread created and interrupted under one server is resumed under a *new* server (a restart,
another instance) on the same database; ownership survives with it. A Lambda Dockfile whose
threads live in its DynamoDB store validates clean.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError
from lghelpers import principal_keys, review_graph, review_spec, serve_agent

from agentdock.errors import StoreNotInitialized
from agentdock.runtime.langgraph_api.threads_store import ThreadStore
from agentdock.runtime.pipeline import Principal  # re-exported on both sides of the stages move
from agentdock.spec import validate_file
from agentdock.store.checkpoint import open_checkpointer
from agentdock.store.dynamodb import DynamoDBStore

pytestmark = pytest.mark.integration


def _dynamodb_url(moto_server: str) -> str:
    """A fresh, initialised metadata table on the moto server (``store init``, as a user runs it)."""
    url = f"dynamodb://threads-{uuid.uuid4().hex[:10]}?region=us-east-1&endpoint_url={moto_server}"
    store = DynamoDBStore(url)
    store.init()
    store.close()
    return url


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'agentdock.db'}"
    if backend == "dynamodb":
        return _dynamodb_url(request.getfixturevalue("moto_server"))
    return str(request.getfixturevalue("postgres_url"))


def _resume_after_restart(url: str) -> None:
    spec = review_spec("store", url)
    principals = principal_keys(spec.agent.name)
    with serve_agent(spec, agent=review_graph(), principals=principals) as first:
        alice = get_sync_client(url=first.url, api_key=first.keys["alice"])
        tid = alice.threads.create(metadata={"case": "persist"})["thread_id"]
        paused = alice.runs.wait(tid, "review_agent", input={"request": "INV-42"})
        assert "__interrupt__" in paused
    with serve_agent(spec, agent=review_graph(), principals=principals) as second:  # a restart
        alice = get_sync_client(url=second.url, api_key=second.keys["alice"])
        thread = alice.threads.get(tid)
        assert thread["status"] == "interrupted" and thread["metadata"]["case"] == "persist"
        with pytest.raises(NotFoundError):  # ownership persisted too
            get_sync_client(url=second.url, api_key=second.keys["bob"]).threads.get(tid)
        done = alice.runs.wait(tid, "review_agent", command={"resume": "yes"})
        assert done == {"request": "INV-42", "draft": "refund for INV-42", "approved": True}
        assert len(alice.threads.get_history(tid, limit=20)) >= 4


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "dynamodb"])
def test_threads_survive_a_restart(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    _resume_after_restart(_url(backend, tmp_path, request))


def _principal(name: str, admin: bool = False) -> Principal:
    perms = frozenset({"invoke", "key_manage"} if admin else {"invoke"})
    return Principal(id=name, role="admin" if admin else "developer", permissions=perms, kind="api_key")


async def _owned_threads(url: str) -> None:
    alice, bob, root = _principal("alice"), _principal("bob"), _principal("root", admin=True)
    async with open_checkpointer(url) as saver:
        store = ThreadStore(saver)
        graph = review_graph().copy(update={"checkpointer": saver})
        for n in range(2):
            tup = await store.create(f"t-{n}", alice, {"n": n}, None)
            config: dict[str, Any] = {"configurable": {"thread_id": f"t-{n}"}, "metadata": dict(tup.metadata)}
            await graph.ainvoke({"request": f"R{n}"}, config)
        await store.create("t-bob", bob, {}, None)
    async with open_checkpointer(url) as saver:  # reopened: everything came from the database
        store = ThreadStore(saver)
        assert sorted(t.config["configurable"]["thread_id"] for t in await store.search(alice, None)) == [
            "t-0",
            "t-1",
        ]
        assert [t.config["configurable"]["thread_id"] for t in await store.search(alice, {"n": 1})] == ["t-1"]
        every = {t.config["configurable"]["thread_id"] for t in await store.search(root, None)}
        assert {"t-0", "t-1", "t-bob"} <= every  # the admin sees all (the schema is shared per session)
        assert (await store.owned("t-1", alice)).metadata["agentdock_owner"] == "api_key:alice"
        with pytest.raises(Exception, match="not found"):
            await store.owned("t-1", bob)
        await store.delete("t-0")
        assert await store.latest("t-0") is None


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "memory", "dynamodb"])
async def test_thread_store_on_each_saver(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = "memory://" if backend == "memory" else _url(backend, tmp_path, request)
    if backend == "memory":  # memory keeps nothing across opens: check within one
        async with open_checkpointer(url) as saver:
            store = ThreadStore(saver)
            await store.create("m", _principal("alice"), {}, None)
            assert len(await store.search(_principal("alice"), None)) == 1
        return
    await _owned_threads(url)


async def test_dynamodb_threads_validate_and_need_an_initialised_table(
    tmp_path: Path, moto_server: str
) -> None:
    missing = f"dynamodb://never-made?region=us-east-1&endpoint_url={moto_server}"
    with pytest.raises(StoreNotInitialized) as refused:  # at open, with the fix, not on first call
        async with open_checkpointer(missing):
            pass
    assert "store init" in (refused.value.hint or "")
    dockfile = tmp_path / "Dockfile.yaml"
    dockfile.write_text(
        "\n".join(
            [
                'version: "1.1"',
                "agent: {name: review_agent, entrypoint: 'agent:graph', framework: langgraph}",
                "model: {provider: openai, name: gpt-4o-mini}",
                "io_schema: {input: {type: object, properties: {request: {type: string}}},"
                " output: {type: object, properties: {approved: {type: boolean}}}}",
                "auth: {mode: api_key, api_keys: {enabled: true}}",
                "deploy: {store: 'dynamodb://agentdock?region=us-east-1', lambda: {memory_mb: 512}}",
                "state: {checkpointer: store}",
            ]
        )
    )
    (tmp_path / "agent.py").write_text("graph = None\n")
    report = validate_file(dockfile)
    assert not [e for e in report.errors if e.path.startswith(("state", "deploy.store"))], report.errors
    warnings = [(w.code, w.path, w.cause) for w in report.warnings]
    assert any(path == "state.checkpointer" and "background run" in cause for _, path, cause in warnings)
    assert not any(path == "state.url" for _, path, _ in warnings)
    # threads on another DynamoDB table: the created role would not cover it, so validate says so
    text = dockfile.read_text().replace(
        "state: {checkpointer: store}",
        "state: {checkpointer: store, url: 'dynamodb://other?region=us-east-1'}",
    )
    dockfile.write_text(text)
    warned = [w for w in validate_file(dockfile).warnings if w.path == "state.url"]
    assert warned and "THREAD#" in (warned[0].hint or "")
