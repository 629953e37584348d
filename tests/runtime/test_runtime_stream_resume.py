"""/stream resume against a real uvicorn on 127.0.0.1: a dropped client rejoins its run with
``Last-Event-ID`` and gets every event exactly once; nobody else can; nobody back = cancelled."""

from __future__ import annotations

import json
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from rthelpers import AGENT, Keys, ScriptAgent, build, make_keys, make_spec, post_scope, serve
from test_runtime_streaming import SSE, read_sse

from agentdock.runtime import streaming
from agentdock.runtime.arguments import RunSettings
from agentdock.runtime.runlog import EventLog, LogStream, LogTrimmed
from agentdock.security.apikeys import generate_api_key
from agentdock.store.base import APIKeyRecord

pytestmark = pytest.mark.integration


def wait_for(check: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def read_until_tokens(response: httpx.Response, tokens: int) -> list[SSE]:
    """Read events until ``tokens`` token events arrived, then stop reading (the caller drops)."""
    events: list[SSE] = []
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "" and fields:
            events.append(SSE(fields["id"], fields["event"], json.loads(fields["data"]), 0.0))
            fields = {}
            if sum(e.event == "token" for e in events) == tokens:
                return events
        elif line and not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    return events


def started_then_dropped(url: str, headers: dict[str, str], tokens: int = 3) -> list[SSE]:
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", f"{url}/stream", json={"text": "x"}, headers=headers) as response,
    ):
        assert response.status_code == 200
        return read_until_tokens(response, tokens)


def rejoin(
    url: str, path: str, headers: dict[str, str], last_id: str | None
) -> tuple[httpx.Response, list[SSE]]:
    sent = dict(headers)
    if last_id is not None:
        sent["last-event-id"] = last_id
    with httpx.Client(timeout=10) as client:
        response = client.send(client.build_request("GET", f"{url}{path}", headers=sent), stream=True)
        try:
            if response.status_code != 200:
                response.read()
                return response, []
            return response, read_sse(response, time.monotonic())[0]
        finally:
            response.close()


def slow_agent(n: int = 20) -> ScriptAgent:
    return ScriptAgent(tokens=[f"t{i} " for i in range(n)], delay_s=0.05)


def test_a_dropped_stream_rejoins_from_last_event_id_and_misses_nothing() -> None:
    agent = slow_agent()
    built = build(agent=agent)
    with serve(built.app) as url:
        first = started_then_dropped(url, built.keys.headers())
        run_id = first[0].data["run_id"]
        response, rest = rejoin(url, f"/stream/{run_id}", built.keys.headers(), first[-1].id)
        _, replay = rejoin(url, f"/stream/{run_id}", built.keys.headers(), None)  # from the start
        metrics = httpx.get(f"{url}/metrics", headers=built.keys.headers("admin")).text
    assert response.status_code == 200 and response.headers["content-type"] == "text/event-stream"
    events = first + rest
    assert [e.id for e in events] == [f"{run_id}:{n}" for n in range(1, len(events) + 1)]
    assert "".join(e.data["text"] for e in events if e.event == "token") == "".join(agent.tokens)
    assert events[-1].event == "end" and events[-1].data["output"] == {"summary": "".join(agent.tokens)}
    assert [e.id for e in replay] == [e.id for e in events]
    assert agent.calls == 1 and agent.finished == 1 and agent.cancelled == 0
    # one series for the route, not one per run id
    assert 'route="/stream/{run_id}",status="200"} 2.0' in metrics and run_id not in metrics


def test_an_eventsource_reconnect_to_the_same_url_resumes_and_204_stops_it_after_the_end() -> None:
    """EventSource reconnects to the URL it opened, with ``Last-Event-ID``: that must rejoin the
    run (never start a second one), and once the run has ended it must answer 204."""
    agent = slow_agent(10)
    built = build(agent=agent)
    query = "/stream?input=" + urllib.parse.quote(json.dumps({"text": "x"}))
    with serve(built.app) as url:
        with (
            httpx.Client(timeout=10) as client,
            client.stream("GET", f"{url}{query}", headers=built.keys.headers()) as response,
        ):
            first = read_until_tokens(response, 2)
        _, rest = rejoin(url, query, built.keys.headers(), first[-1].id)
        done, _ = rejoin(url, query, built.keys.headers(), rest[-1].id)
        post = httpx.post(
            f"{url}/stream",
            json={"text": "x"},
            headers={**built.keys.headers(), "last-event-id": rest[-1].id},
        )
    assert rest[0].id == f"{first[0].data['run_id']}:{len(first) + 1}" and rest[-1].event == "end"
    assert done.status_code == 204
    assert post.status_code == 204  # a fetch-based client retrying its POST is a reconnect too
    assert agent.calls == 1


def test_nobody_back_within_the_window_cancels_the_run() -> None:
    agent = slow_agent(100)
    built = build(make_spec(arguments={"resume_window_sec": 0.6}), agent=agent)
    with serve(built.app) as url:
        first = started_then_dropped(url, built.keys.headers(), 1)
        time.sleep(0.1)
        assert agent.cancelled == 0  # still inside the window: the run goes on
        assert wait_for(lambda: agent.cancelled == 1)
        path = f"/stream/{first[0].data['run_id']}"
        late, rest = rejoin(url, path, built.keys.headers(), first[-1].id)
        again, _ = rejoin(url, path, built.keys.headers(), rest[-1].id)
    assert agent.finished == 0
    # too late: what was sent meanwhile, then an error event that says why it stopped
    assert late.status_code == 200 and rest[-1].event == "error"
    assert rest[-1].data["error"] == "Gone" and "resume_window_sec" in rest[-1].data["detail"]
    assert again.status_code == 204
    assert any('"error":"ClientDisconnected"' in line for line in built.logs)


def test_resume_off_cancels_at_once_and_a_reconnect_never_reruns_the_agent() -> None:
    agent = slow_agent(100)
    built = build(make_spec(arguments={"resume_window_sec": 0}), agent=agent)
    with serve(built.app) as url:
        first = started_then_dropped(url, built.keys.headers(), 1)
        assert wait_for(lambda: agent.cancelled == 1)
        again, _ = rejoin(url, "/stream", built.keys.headers(), first[-1].id)
    assert again.status_code == 404 and again.json()["error"] == "NotFound"
    assert "start a new stream" in again.json()["detail"]
    assert agent.calls == 1


def second_developer(keys: Keys) -> dict[str, str]:
    other = generate_api_key(pepper="")
    record = APIKeyRecord(
        key_id=other.key_id,
        agent=AGENT,
        role="developer",
        key_hash=other.key_hash,
        created_at=datetime.now(UTC),
    )
    keys.resolver.add(record)
    return {"x-api-key": other.key}


def test_only_the_owner_or_an_admin_rejoins() -> None:
    agent = slow_agent(40)
    keys = make_keys()
    intruder = second_developer(keys)
    built = build(agent=agent, keys=keys)
    with serve(built.app) as url:
        first = started_then_dropped(url, keys.headers(), 1)
        path = f"/stream/{first[0].data['run_id']}"
        stranger, _ = rejoin(url, path, intruder, first[-1].id)
        header_only, _ = rejoin(url, "/stream", intruder, first[-1].id)
        viewer, _ = rejoin(url, path, keys.headers("viewer"), first[-1].id)
        admin, rest = rejoin(url, path, keys.headers("admin"), first[-1].id)
    assert stranger.status_code == 404 and header_only.status_code == 404  # as if it did not exist
    assert viewer.status_code == 403  # no invoke permission at all
    assert admin.status_code == 200 and rest[-1].event == "end"


def test_bad_last_event_ids_are_clear_errors() -> None:
    built = build()
    with serve(built.app) as url:
        first = started_then_dropped(url, built.keys.headers(), 1)
        run_id = first[0].data["run_id"]
        garbage, _ = rejoin(url, f"/stream/{run_id}", built.keys.headers(), "abc")
        other, _ = rejoin(url, f"/stream/{run_id}", built.keys.headers(), "0123:4")
        unknown, _ = rejoin(url, "/stream/0123", built.keys.headers(), None)
    assert garbage.status_code == 422 and garbage.json()["fields"][0]["loc"] == ["headers", "last-event-id"]
    assert other.status_code == 422 and "names run 0123" in other.json()["detail"]
    assert unknown.status_code == 404


def test_a_resume_from_events_past_the_size_cap_is_410(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "MAX_RESUME_BYTES", 600)  # a few events' worth
    agent = slow_agent(30)
    built = build(agent=agent)
    with serve(built.app) as url:
        first = started_then_dropped(url, built.keys.headers(), 1)
        run_id = first[0].data["run_id"]
        assert wait_for(lambda: agent.finished == 1)
        gone, _ = rejoin(url, f"/stream/{run_id}", built.keys.headers(), first[-1].id)
        _, tail = rejoin(url, f"/stream/{run_id}", built.keys.headers(), f"{run_id}:{len(agent.tokens)}")
    assert gone.status_code == 410 and gone.json()["error"] == "Gone"
    assert tail[-1].event == "end"


def test_event_log_trims_its_head_beyond_the_cap() -> None:
    log = EventLog(max_bytes=10)
    for i in range(6):
        log.push(b"%d" % i * 4)
    # over 10 bytes, the head is dropped down to 3/4 of the cap (in batches, not one per push)
    assert log.last_id == 6 and log.base == 4 and log.events == [b"4444", b"5555"] and log.size == 8
    with pytest.raises(LogTrimmed):
        anext_sync(log, 2)


def anext_sync(log: EventLog, after: int) -> Any:
    import asyncio

    async def first() -> Any:
        return await anext(log.follow(after))

    return asyncio.run(first())


def test_resume_window_defaults_to_zero_on_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RunSettings.from_arguments({}).resume_window_s == 10
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "agent")
    assert RunSettings.from_arguments({}).resume_window_s == 0
    assert RunSettings.from_arguments({"resume_window_sec": 5}).resume_window_s == 5


async def test_finished_logs_are_kept_within_a_count_and_a_byte_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    monkeypatch.setattr(streaming, "MAX_KEPT_RUNS", 3)
    monkeypatch.setattr(streaming, "MAX_KEPT_BYTES", 250)
    runs = streaming.StreamRuns(60)
    task = asyncio.current_task()
    assert task is not None
    for n in range(5):
        run = runs.start(f"r{n}", "api_key:k", task)
        run.log.push(b"x" * 100)
        runs.finish(run)
    kept = [n for n in range(5) if f"r{n}" in runs._runs]
    assert kept == [3, 4]  # 3 runs would hold 300 bytes > 250: the oldest went first
    live = runs.start("live", "api_key:k", task)
    live.log.push(b"x" * 1000)
    assert "live" in runs._runs  # a running run is never dropped for the budget


async def test_a_finished_run_is_forgotten_after_its_window() -> None:
    import asyncio

    from agentdock.errors import NotFound
    from agentdock.stages import Principal

    runs = streaming.StreamRuns(0.05)
    owner = Principal(id="k", role="developer", permissions=frozenset({"invoke"}), kind="api_key")
    task = asyncio.current_task()
    assert task is not None
    run = runs.start("r1", owner.owner, task)
    run.log.push(b"id: r1:1\n\n")
    runs.finish(run)
    assert isinstance(runs.rejoin("r1", 0, owner, 1.0), LogStream)
    await asyncio.sleep(0.1)
    with pytest.raises(NotFound):
        runs.rejoin("r1", 0, owner, 1.0)


async def test_a_client_that_stops_reading_is_detached_and_its_response_still_ends() -> None:
    """With resume on, a stalled reader is detached (the run goes on for a rejoin); when the run
    ends, the response is still closed (best effort), not left open for the server to complain."""
    import asyncio

    agent = ScriptAgent(tokens=["tok "] * 20, delay_s=0.0)
    built = build(make_spec(arguments={"send_timeout_sec": 0.2}), agent=agent)
    sent: list[dict[str, Any]] = []
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not sent:
            return {"type": "http.request", "body": b'{"text": "x"}', "more_body": False}
        await never.wait()  # connected, silent
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message.get("more_body") and len(sent) > 3:
            await never.wait()  # the socket buffer is full: this write blocks

    scope = post_scope("/stream", built.keys.developer)
    async with built.app.router.lifespan_context(built.app):
        await asyncio.wait_for(built.app(scope, receive, send), timeout=5)
    assert agent.finished == 1 and agent.cancelled == 0  # detached, not dropped: the run finished
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
