"""The request log line, Prometheus metrics, trace ids."""

from __future__ import annotations

import json

import pytest
from rthelpers import ScriptAgent, build, client_for, make_spec

from agentdock.telemetry.logs import RequestLog
from agentdock.telemetry.tracing import parse_traceparent

pytestmark = pytest.mark.functional


def request_lines(logs: list[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in logs if json.loads(line)["msg"] == "request"]


async def test_one_json_line_per_request_with_the_fixed_fields() -> None:
    built = build(agent=ScriptAgent(usage=(11, 4)))
    async with client_for(built.app) as client:
        ok = await client.post("/invoke", json={"text": "x"}, headers=built.keys.headers())
        await client.post("/invoke", json={"text": 1}, headers=built.keys.headers())
    lines = request_lines(built.logs)
    assert len(lines) == 2
    first, second = lines
    assert first["agent"] == "test_agent" and first["version"] == "dev"
    assert first["trace_id"] == ok.headers["x-trace-id"]
    assert first["route"] == "/invoke" and first["status"] == 200 and first["level"] == "info"
    assert isinstance(first["latency_ms"], float)
    assert first["tokens"] == {"input_tokens": 11, "output_tokens": 4}
    assert second["status"] == 422 and second["error"] == "ValidationError" and second["level"] == "warn"


async def test_log_level_filters_request_lines() -> None:
    built = build(make_spec(observability={"log_level": "error"}))
    async with client_for(built.app) as client:
        await client.get("/health")
        await client.post("/invoke", json={"text": 1}, headers=built.keys.headers())
    assert request_lines(built.logs) == []


async def test_metrics_count_requests_errors_tokens_latency_in_flight() -> None:
    built = build(agent=ScriptAgent(usage=(5, 2)))
    async with client_for(built.app) as client:
        for _ in range(2):
            await client.post("/invoke", json={"text": "x"}, headers=built.keys.headers())
        await client.post("/invoke", json={"text": 1}, headers=built.keys.headers())
        await client.get("/nope")
        text = (await client.get("/metrics", headers=built.keys.headers("admin"))).text
    assert 'agentdock_requests_total{method="POST",route="/invoke",status="200"} 2.0' in text
    assert 'agentdock_requests_total{method="POST",route="/invoke",status="422"} 1.0' in text
    assert 'agentdock_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'agentdock_errors_total{type="ValidationError"} 1.0' in text
    assert 'agentdock_errors_total{type="NotFound"} 1.0' in text
    assert 'agentdock_tokens_total{direction="in"} 10.0' in text
    assert 'agentdock_tokens_total{direction="out"} 4.0' in text
    assert 'agentdock_request_duration_seconds_count{route="/invoke"} 3.0' in text
    assert "agentdock_in_flight_requests 1.0" in text  # the /metrics request itself
    assert 'agentdock_agent_info{agent="test_agent",version="dev"} 1.0' in text


async def test_each_app_has_its_own_registry() -> None:
    one, two = build(), build()
    async with client_for(one.app) as c1, client_for(two.app) as c2:
        await c1.post("/invoke", json={"text": "x"}, headers=one.keys.headers())
        text = (await c2.get("/metrics", headers=two.keys.headers("admin"))).text
    assert 'route="/invoke"' not in text


def test_traceparent_parsing() -> None:
    good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert parse_traceparent(good) == "4bf92f3577b34da6a3ce929d0e0e4736"
    for bad in (
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "garbage",
    ):
        assert parse_traceparent(bad) is None, bad
    assert parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future") is not None


def test_log_lines_are_single_lines_without_secret_text() -> None:
    lines: list[str] = []
    log = RequestLog("a", "1", "debug", lines.append)
    log.request(
        trace_id="t",
        route="/invoke",
        method="POST",
        status=500,
        latency_ms=1.234,
        error="AgentError",
        cause="ValueError",
    )
    assert len(lines) == 1 and lines[0].endswith("\n") and lines[0].count("\n") == 1
    record = json.loads(lines[0])
    assert record["level"] == "error" and record["cause"] == "ValueError" and record["latency_ms"] == 1.23
