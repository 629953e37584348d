"""Bad requests to the LangGraph routes get the JSON envelope with a stable name and the field.

In-process (ASGI) against the review agent with memory threads; the SDK tests cover the happy
paths over real HTTP.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from lghelpers import app_for, review_graph, review_spec
from rthelpers import client_for

from agentdock.errors import StoreError

pytestmark = pytest.mark.functional


def _app(checkpointer: str = "memory") -> tuple[FastAPI, dict[str, str]]:
    app, keys = app_for(review_spec(checkpointer), agent=review_graph())
    return app, {"x-api-key": keys["alice"]}


async def test_bad_requests_name_the_field() -> None:
    app, headers = _app()
    async with client_for(app) as client:
        bad_mode = await client.post(
            "/runs/wait", json={"assistant_id": "review_agent", "stream_mode": "tokens"}, headers=headers
        )
        no_assistant = await client.post("/runs/wait", json={"input": {}}, headers=headers)
        unknown = await client.post(
            "/runs/wait", json={"assistant_id": "other", "input": {}}, headers=headers
        )
        not_json = await client.post("/threads", content=b"{", headers=headers)
        missing_thread = await client.post(
            "/threads/nope/runs/wait", json={"assistant_id": "review_agent", "input": {}}, headers=headers
        )
        bad_limit = await client.get("/threads/nope/runs?limit=x", headers=headers)
        assistant = await client.get("/assistants/other", headers=headers)
    assert bad_mode.status_code == 422 and bad_mode.json()["error"] == "ValidationError"
    assert bad_mode.json()["detail"].startswith("stream_mode")
    assert no_assistant.status_code == 422 and "assistant_id" in no_assistant.json()["detail"]
    assert unknown.status_code == 404 and "'other'" in unknown.json()["detail"]
    assert not_json.status_code == 422 and "JSON" in not_json.json()["detail"]
    assert missing_thread.status_code == 404 and "thread nope" in missing_thread.json()["detail"]
    assert bad_limit.status_code in (404, 422)
    assert assistant.status_code == 404


async def test_reject_while_a_run_is_in_progress_and_existing_threads() -> None:
    app, headers = _app()
    async with client_for(app) as client:
        tid = (await client.post("/threads", json={}, headers=headers)).json()["thread_id"]
        again = await client.post("/threads", json={"thread_id": tid}, headers=headers)
        kept = await client.post(
            "/threads", json={"thread_id": tid, "if_exists": "do_nothing"}, headers=headers
        )
        slow = {"assistant_id": "review_agent", "input": {"request": "slow"}}
        started = await client.post(f"/threads/{tid}/runs", json=slow, headers=headers)
        await asyncio.sleep(0.05)
        rejected = await client.post(
            f"/threads/{tid}/runs", json={**slow, "multitask_strategy": "reject"}, headers=headers
        )
        busy = (await client.get(f"/threads/{tid}", headers=headers)).json()["status"]
        run_id = started.json()["run_id"]
        cancel = await client.post(f"/threads/{tid}/runs/{run_id}/cancel?wait=1", headers=headers)
        status = (await client.get(f"/threads/{tid}/runs/{run_id}", headers=headers)).json()["status"]
    assert again.status_code == 409 and again.json()["error"] == "Conflict"
    assert kept.status_code == 200 and kept.json()["thread_id"] == tid
    assert started.headers["content-location"] == f"/threads/{tid}/runs/{run_id}"
    assert rejected.status_code == 409 and busy == "busy"
    assert cancel.status_code == 204 and status == "interrupted"


async def test_threads_off_answers_409_with_the_fix() -> None:
    app, headers = _app("none")
    async with client_for(app) as client:
        refused = await client.post("/threads", json={}, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "this agent keeps no thread state: add 'state: {checkpointer: store}' (or memory) to the Dockfile"
    )


async def test_metrics_label_thread_routes_by_their_template() -> None:
    app, keys = app_for(review_spec("memory"), agent=review_graph())
    headers = {"x-api-key": keys["alice"]}
    async with client_for(app) as client:
        for _ in range(2):
            tid = (await client.post("/threads", json={}, headers=headers)).json()["thread_id"]
            assert (await client.get(f"/threads/{tid}/state", headers=headers)).status_code == 200
        text = (await client.get("/metrics", headers={"x-api-key": keys["root"]})).text
    assert 'route="/threads/{thread_id}/state",status="200"} 2.0' in text
    assert tid not in text


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("sqlite:///{tmp}/threads.db", "langgraph.checkpoint.sqlite.aio", "threads-sqlite"),
        ("postgresql://u@127.0.0.1:1/db", "langgraph.checkpoint.postgres.aio", "postgres"),
    ],
)
async def test_a_saver_that_is_not_installed_refuses_start_with_the_extra(
    url: str, module: str, extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads in the store with the store's saver missing (e.g. ``pip install agentdock[cli]``
    and a SQLite store): start-up names the extra, not a bare ModuleNotFoundError."""
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    app, _ = app_for(review_spec("store", url.format(tmp=tmp_path)), agent=review_graph())
    with pytest.raises(StoreError) as err:
        async with app.router.lifespan_context(app):
            pass
    assert err.value.path == "state.checkpointer" and "is not installed" in err.value.cause
    assert err.value.hint is not None and f"agentdock[{extra}]" in err.value.hint
