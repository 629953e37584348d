"""The LangGraph API check's verdicts, against a scripted server (unit tier): a server that keeps
the thread passes; one whose second run does not continue the first, or whose stream ends in an
``error`` event, fails naming the route; the preflight's thread is deleted either way."""

from __future__ import annotations

import json

import pytest

from agentdock.errors import PreflightFailed
from agentdock.preflight.auth import Credentials
from agentdock.preflight.checks import run_checks
from agentdock.preflight.langgraph import langgraph_checks, sse_events, threads_in
from agentdock.settings import ENV_STORE

pytestmark = pytest.mark.unit

STREAM = (
    b'event: metadata\ndata: {"run_id": "r"}\nid: 0\n\n'
    b'event: values\ndata: {"messages": []}\nid: 1\n\n'
    b": heartbeat\n\n"
    b'event: messages\ndata: [{"content": "hi"}, {}]\nid: 2\n\n'
)


class Scripted:
    """Answers the routes the check calls; ``keeps`` says whether runs continue the thread."""

    def __init__(
        self, keeps: bool = True, stream: bytes = STREAM, thread: bytes = b'{"thread_id": "t1"}'
    ) -> None:
        self.keeps, self.stream, self.thread = keeps, stream, thread
        self.calls: list[tuple[str, str]] = []
        self.runs = 0

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None = None,
        timeout_s: float = 30,
    ) -> tuple[int, dict[str, str], bytes]:
        self.calls.append((method, path))
        json_ct = {"content-type": "application/json"}
        if path == "/health":
            return 200, json_ct, b'{"status": "ok"}'
        if path == "/schema":
            return 200, json_ct, b'{"input_schema": {"type": "object"}}'
        if path == "/assistants/search":
            return 200, json_ct, json.dumps([{"assistant_id": "agent"}]).encode()
        if path == "/threads":
            return 200, json_ct, self.thread
        if path.endswith("/runs/wait"):
            self.runs += 1
            n = 2 * (self.runs if self.keeps else 1)
            return 200, json_ct, json.dumps({"messages": list(range(n))}).encode()
        if path.endswith("/state"):
            return 200, json_ct, json.dumps({"checkpoint": {"checkpoint_id": f"c{self.runs}"}}).encode()
        if path.endswith("/history"):
            parents = ["c1", None] if self.keeps else [None, None]
            return 200, json_ct, json.dumps([{"parent_checkpoint_id": p} for p in parents]).encode()
        if path.endswith("/runs/stream"):
            return 200, {"content-type": "text/event-stream; charset=utf-8"}, self.stream
        if method == "DELETE":
            return 204, {}, b""
        return 404, json_ct, b"{}"


def test_a_thread_kept_across_runs_passes() -> None:
    server = Scripted()
    seen = langgraph_checks(server, {"x-api-key": "k"}, "agent", "store", {"q": "x"})
    assert seen == {
        "assistants": 1,
        "checkpointer": "store",
        "thread_runs": 2,
        "checkpoints": 2,
        "messages": [2, 4],
        "stream_events": {"metadata": 1, "values": 1, "messages": 1},
    }
    assert server.calls[-1] == ("DELETE", "/threads/t1")


def test_without_threads_only_the_assistant_is_checked() -> None:
    server = Scripted()
    seen = langgraph_checks(server, {}, "agent", "none", {})
    assert seen == {"assistants": 1, "checkpointer": "none"}
    assert server.calls == [("POST", "/assistants/search")]
    with pytest.raises(PreflightFailed, match="no assistant 'other'"):
        langgraph_checks(server, {}, "other", "none", {})


def test_a_second_run_that_starts_over_fails_and_the_thread_is_deleted() -> None:
    server = Scripted(keeps=False)
    with pytest.raises(PreflightFailed) as err:
        langgraph_checks(server, {}, "agent", "memory", {})
    assert err.value.path == "langgraph /threads/{id}/runs/wait" and "not kept" in err.value.cause
    assert server.calls[-1] == ("DELETE", "/threads/t1")


def test_a_stream_ending_in_an_error_event_fails() -> None:
    broken = STREAM + b'event: error\ndata: {"error": "ToolDenied"}\n\n'
    with pytest.raises(PreflightFailed) as err:
        langgraph_checks(Scripted(stream=broken), {}, "agent", "store", {})
    assert err.value.path == "langgraph /threads/{id}/runs/stream" and "'error'" in err.value.cause


def test_sse_events_parse_multiline_data_and_skip_comments() -> None:
    body = b'event: values\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: hb\r\n\r\ndata: plain\n\n'
    assert sse_events(body) == [("values", {"a": 1}), ("message", "plain")]


def test_threads_in_follows_the_runtime_order() -> None:
    store = {"state": {"checkpointer": "store"}}
    assert threads_in({}, {}) == "none"
    assert threads_in({"state": {"checkpointer": "memory"}}, {ENV_STORE: "sqlite:///x"}) == "memory"
    assert threads_in(store, {}) == "memory"  # no store anywhere: the runtime keeps them in memory
    assert threads_in({**store, "deploy": {"store": "postgresql://h/db"}}, {}) == "postgresql"
    assert (
        threads_in({**store, "deploy": {"store": "sqlite:///a"}}, {ENV_STORE: "dynamodb://t"}) == "dynamodb"
    )
    url = {"state": {"checkpointer": "store", "url": "postgresql://h/db"}}
    assert threads_in(url, {ENV_STORE: "dynamodb://t"}) == "postgresql"


def test_run_checks_reports_where_threads_live_and_refuses_a_misshapen_answer() -> None:
    raw = {"agent": {"name": "agent", "framework": "langgraph"}, "state": {"checkpointer": "store"}}
    raw["expose"] = {"rest": False}
    seen = run_checks(Scripted(), Credentials(), raw, {ENV_STORE: "dynamodb://t"}, "repro-line")
    assert seen["langgraph"]["threads_in"] == "dynamodb" and seen["langgraph"]["thread_runs"] == 2
    with pytest.raises(PreflightFailed) as err:
        run_checks(Scripted(thread=b'{"id": "t1"}'), Credentials(), raw, {}, "repro-line")
    assert err.value.path == "langgraph" and "thread_id" in err.value.cause
    assert err.value.hint == "reproduce: repro-line"
