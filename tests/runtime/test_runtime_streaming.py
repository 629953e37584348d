"""SSE and WebSocket streaming against a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from rthelpers import ScriptAgent, build, make_spec, serve

pytestmark = pytest.mark.integration


@dataclass
class SSE:
    id: str
    event: str
    data: dict[str, Any]
    at: float


def read_sse(response: httpx.Response, started: float) -> tuple[list[SSE], int]:
    """Parse the stream as it arrives; returns the events and the number of ping comments."""
    events: list[SSE] = []
    pings = 0
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            pings += 1
        elif line == "":
            if fields:
                events.append(
                    SSE(
                        fields["id"],
                        fields["event"],
                        json.loads(fields["data"]),
                        time.monotonic() - started,
                    )
                )
            fields = {}
        else:
            name, _, value = line.partition(": ")
            fields[name] = value
    return events, pings


def stream(
    url: str, headers: dict[str, str], body: dict[str, Any] | None = None, query: str | None = None
) -> tuple[httpx.Response, list[SSE], int]:
    started = time.monotonic()
    with httpx.Client(timeout=10) as client:
        if query is not None:
            request = client.build_request(
                "GET", f"{url}/stream?input={urllib.parse.quote(query)}", headers=headers
            )
        else:
            request = client.build_request("POST", f"{url}/stream", json=body, headers=headers)
        response = client.send(request, stream=True)
        try:
            if response.status_code != 200:
                response.read()
                return response, [], 0
            events, pings = read_sse(response, started)
        finally:
            response.close()
    return response, events, pings


def test_tokens_arrive_spread_over_time_not_in_one_burst() -> None:
    agent = ScriptAgent(tokens=["one ", "two ", "three ", "four ", "five"], delay_s=0.15)
    built = build(agent=agent)
    with serve(built.app) as url:
        response, events, _ = stream(url, built.keys.headers(), {"text": "x"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert len(response.headers["x-trace-id"]) == 32
    assert [e.event for e in events] == [
        "start",
        "update",
        "token",
        "token",
        "token",
        "token",
        "token",
        "end",
    ]
    run_id = events[0].data["run_id"]
    assert len(run_id) == 32
    assert [e.id for e in events] == [f"{run_id}:{n}" for n in range(1, len(events) + 1)]
    tokens = [e for e in events if e.event == "token"]
    assert "".join(e.data["text"] for e in tokens) == "one two three four five"
    # Each token is on the wire when produced: ~0.15 s apart, the first long before the end.
    gaps = [b.at - a.at for a, b in zip(tokens, tokens[1:], strict=False)]
    assert min(gaps) > 0.08, gaps
    assert events[-1].at - tokens[0].at > 0.45
    end = events[-1].data
    assert end["output"] == {"summary": "one two three four five"}
    assert end["usage"] == {"input_tokens": 7, "output_tokens": 3}
    assert end["truncated"] is False
    assert events[0].data["trace_id"] == response.headers["x-trace-id"]


def test_get_stream_with_query_input_and_errors_before_the_stream() -> None:
    built = build()
    with serve(built.app) as url:
        response, events, _ = stream(url, built.keys.headers(), query=json.dumps({"text": "hi"}))
        bad, _, _ = stream(url, built.keys.headers(), query="{nope")
        invalid, _, _ = stream(url, built.keys.headers(), query=json.dumps({"text": 1}))
        denied, _, _ = stream(url, built.keys.headers("viewer"), query=json.dumps({"text": "hi"}))
    assert response.status_code == 200 and events[-1].event == "end"
    assert bad.status_code == 422 and bad.json()["fields"][0]["loc"] == ["query", "input"]
    assert invalid.status_code == 422 and invalid.json()["fields"][0]["loc"] == ["query", "input", "text"]
    assert denied.status_code == 403 and denied.json()["error"] == "PermissionDenied"


def test_tool_denied_ends_the_stream_with_an_error_event() -> None:
    agent = ScriptAgent(tool="issue_refund")
    built = build(agent=agent)
    with serve(built.app) as url:
        response, events, _ = stream(url, built.keys.headers(), {"text": "refund me"})
    assert response.status_code == 200
    assert [e.event for e in events] == ["start", "error"]
    error = events[-1].data
    assert error["error"] == "ToolDenied" and error["code"] == 403
    assert error["trace_id"] == response.headers["x-trace-id"]
    assert agent.finished == 0
    assert any('"error":"ToolDenied"' in line for line in built.logs)


def test_truncation_ends_the_stream_saying_why() -> None:
    spec = make_spec(policies={"safety": {"max_output_chars": 10}})
    agent = ScriptAgent(tokens=["abcd ", "efgh ", "ijkl ", "mnop"], delay_s=0.01)
    built = build(spec, agent=agent)
    with serve(built.app) as url:
        _, events, _ = stream(url, built.keys.headers(), {"text": "x"})
    text = "".join(e.data["text"] for e in events if e.event == "token")
    assert text == "abcd efgh "
    end = events[-1]
    assert end.event == "end" and end.data["truncated"] is True
    assert "max_output_chars" in end.data["reason"]
    assert agent.finished == 0  # the run was stopped, not drained


def test_redaction_applies_to_tokens_split_across_chunks() -> None:
    spec = make_spec(policies={"safety": {"redact_patterns": [r"\b\d{16}\b"]}})
    agent = ScriptAgent(tokens=["card 4111", "1111111", "11111 ok"])
    built = build(spec, agent=agent)
    with serve(built.app) as url:
        _, events, _ = stream(url, built.keys.headers(), {"text": "x"})
    text = "".join(e.data["text"] for e in events if e.event == "token")
    assert "4111" not in text and text.startswith("card ") and text.endswith(" ok")
    assert "4111" not in json.dumps(events[-1].data)


def test_tool_events_are_redacted_like_output() -> None:
    spec = make_spec(policies={"safety": {"redact_patterns": [r"\b\d{16}\b"]}})
    agent = ScriptAgent(tool="lookup", tool_output={"card": "4111111111111111", "status": "paid"})
    built = build(spec, agent=agent)
    with serve(built.app) as url:
        _, events, _ = stream(url, built.keys.headers(), {"text": "card 4111111111111111"})
    tools = [e.data for e in events if e.event == "tool"]
    assert [t["phase"] for t in tools] == ["start", "end"]
    assert tools[1]["name"] == "lookup" and tools[1]["output"]["status"] == "paid"
    assert "4111111111111111" not in json.dumps([e.data for e in events])


def test_heartbeat_comments_while_idle_and_timeout_error_event() -> None:
    spec = make_spec(arguments={"heartbeat_sec": 0.1, "timeout_sec": 0.55})
    agent = ScriptAgent(tokens=["slow"], delay_s=5)
    built = build(spec, agent=agent)
    with serve(built.app) as url:
        response, events, pings = stream(url, built.keys.headers(), {"text": "x"})
    assert response.status_code == 200
    assert pings >= 3
    assert events[-1].event == "error" and events[-1].data["error"] == "AgentTimeout"
    assert events[-1].data["code"] == 504
    assert agent.cancelled == 1


def test_client_disconnect_cancels_the_run() -> None:
    agent = ScriptAgent(tokens=["t "] * 100, delay_s=0.05)
    built = build(agent=agent)
    with serve(built.app) as url:
        with (
            httpx.Client(timeout=10) as client,
            client.stream(
                "POST", f"{url}/stream", json={"text": "x"}, headers=built.keys.headers()
            ) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("event: token"):
                    break
        deadline = time.monotonic() + 3
        while agent.cancelled == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert agent.cancelled == 1 and agent.finished == 0


def test_enable_streaming_false_sends_start_and_end_only() -> None:
    built = build(make_spec(arguments={"enable_streaming": False}))
    with serve(built.app) as url:
        _, events, _ = stream(url, built.keys.headers(), {"text": "x"})
    assert [e.event for e in events] == ["start", "end"]
    assert events[-1].data["output"] == {"summary": "Hello world"}


async def test_websocket_stream() -> None:
    spec = make_spec(expose={"streaming": "websocket"})
    agent = ScriptAgent(tokens=["a ", "b"], delay_s=0.05)
    built = build(spec, agent=agent)
    with serve(built.app) as url:
        ws_url = url.replace("http", "ws") + "/ws/stream"
        async with websockets.connect(ws_url, additional_headers=built.keys.headers()) as ws:
            await ws.send(json.dumps({"input": {"text": "x"}}))
            first = [json.loads(await ws.recv()) for _ in range(4)]
            await ws.send(json.dumps({"input": {"text": 3}}))
            invalid = json.loads(await ws.recv())
            await ws.send(json.dumps({"input": {"text": "again"}}))
            second = [json.loads(await ws.recv()) for _ in range(4)]
        async with websockets.connect(ws_url) as anonymous:
            refused = json.loads(await anonymous.recv())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await anonymous.recv()
        sse = httpx.post(f"{url}/stream", json={"text": "x"}, headers=built.keys.headers())
    assert [m["type"] for m in first] == ["start", "token", "token", "end"]
    assert first[-1]["output"] == {"summary": "a b"}
    assert invalid["type"] == "error" and invalid["code"] == 422
    assert [m["type"] for m in second] == ["start", "token", "token", "end"]
    assert refused["type"] == "error" and refused["code"] == 401
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert sse.status_code == 404  # SSE is not served when websocket is chosen
    assert agent.calls == 2
