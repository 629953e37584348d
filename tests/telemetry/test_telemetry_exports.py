"""OTLP export to a collector stand-in, EMF lines on Lambda, JSON logs, prices, local aggregates."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_telemetry_langfuse import invoice_app  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from rthelpers import client_for  # noqa: E402

from agentdock.telemetry.cost import PriceTable  # noqa: E402
from agentdock.telemetry.ledger import Ledger, aggregate  # noqa: E402
from agentdock.telemetry.logs import JSONFormatter, install_json_logging  # noqa: E402
from agentdock.telemetry.tracing import TRACE_ID  # noqa: E402
from agentdock.testing.langfuse_standin import StandIn  # noqa: E402

QUESTION = {"question": "What is the total of INV-1001?"}


@pytest.mark.functional
@pytest.mark.asyncio
async def test_otel_env_exports_the_same_spans_to_a_collector(
    standin: StandIn, telemetry_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with StandIn() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team=billing%20ops")
        app, headers = invoice_app(telemetry_env, [])
        async with client_for(app) as client:
            answer = await client.post("/invoke", json=QUESTION, headers=headers)
            assert app.state.telemetry.flush(10.0)
        trace_id = answer.headers["x-trace-id"]
        at_collector = collector.received.traces()[trace_id]
        at_langfuse = standin.received.traces()[trace_id]
        assert {s["span_id"] for s in at_collector} == {s["span_id"] for s in at_langfuse}
        root = next(s for s in at_collector if s["attributes"].get("langfuse.observation.type") == "agent")
        assert root["resource"]["service.name"] == "invoice_copilot"
        assert "invoice_copilot" in root["attributes"]["langfuse.trace.tags"]
        assert collector.received.headers[0]["x-team"] == "billing ops"
        assert "authorization" not in collector.received.headers[0]


@pytest.mark.functional
@pytest.mark.asyncio
async def test_otel_only_without_langfuse(
    standin: StandIn, telemetry_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in telemetry_env.items() if not k.startswith("LANGFUSE")}
    monkeypatch.delenv("LANGFUSE_PUBLIC_KEY")
    monkeypatch.delenv("LANGFUSE_SECRET_KEY")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", standin.url + "/v1/traces")
    app, headers = invoice_app(env, [], langfuse=False)
    assert app.state.telemetry.langfuse is None and app.state.telemetry.otlp
    async with client_for(app) as client:
        answer = await client.post("/invoke", json=QUESTION, headers=headers)
        assert app.state.telemetry.flush(10.0)
    spans = standin.received.traces()[answer.headers["x-trace-id"]]
    assert any(s["attributes"].get("langfuse.observation.type") == "generation" for s in spans)


def num(value: Any) -> float:
    """EMF values are numbers or arrays of numbers (Powertools writes arrays)."""
    return float(value[0] if isinstance(value, list) else value)


def check_emf(blob: dict[str, Any]) -> None:
    """The CloudWatch embedded metric format specification's shape."""
    meta = blob["_aws"]
    assert isinstance(meta["Timestamp"], int)
    assert meta["CloudWatchMetrics"], "at least one metric directive"
    for directive in meta["CloudWatchMetrics"]:
        assert isinstance(directive["Namespace"], str) and 1 <= len(directive["Namespace"]) <= 255
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= 30
            for name in dimension_set:
                assert isinstance(blob[name], str)
        for metric in directive["Metrics"]:
            assert isinstance(blob[metric["Name"]], int | float | list)
            assert metric.get("Unit", "None") in ("Count", "Milliseconds", "None")


@pytest.mark.functional
@pytest.mark.asyncio
async def test_lambda_writes_emf_metrics_and_powertools_json_logs(
    telemetry_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "invoice-fn")
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"):
        monkeypatch.delenv(name)
    env = {k: v for k, v in telemetry_env.items() if not k.startswith("LANGFUSE")}
    app, headers = invoice_app(env, [], langfuse=False)
    async with client_for(app) as client:
        await client.post("/invoke", json=QUESTION, headers=headers)
        await client.post("/invoke", json={"question": "Refund invoice INV-1001"}, headers=headers)
        logging.getLogger("agentdock.test").warning("a runtime warning")
    out, err = capsys.readouterr()
    blobs = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    for blob in blobs:
        check_emf(blob)
    main = [b for b in blobs if "Requests" in b]
    assert len(main) == 2 and all(b["agent"] == "invoice_copilot" and b["route"] == "/invoke" for b in main)
    assert num(main[0]["InputTokens"]) > 0 and num(main[0]["CostUSD"]) > 0 and num(main[0]["Latency"]) > 0
    assert any(b.get("error_type") == "ToolDenied" and num(b["Errors"]) == 1 for b in blobs)
    assert any(b.get("policy_event") == "policy.tools.denied" for b in blobs)
    log_lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    warning = next(entry for entry in log_lines if entry.get("message") == "a runtime warning")
    assert warning["service"] == "invoice_copilot" and warning["level"] == "WARNING"


def test_agentdock_loggers_emit_json_with_the_trace_id(capsys: pytest.CaptureFixture[str]) -> None:
    install_json_logging("a1", "1.0", "info")
    token = TRACE_ID.set("ab" * 16)
    try:
        logging.getLogger("agentdock.runtime.x").warning("careful: %s", "thing")
        try:
            raise ValueError("secret-ish text")
        except ValueError:
            logging.getLogger("agentdock.y").exception("failed")
    finally:
        TRACE_ID.reset(token)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0] == {
        **lines[0],
        "msg": "careful: thing",
        "trace_id": "ab" * 16,
        "agent": "a1",
        "level": "warn",
    }
    assert lines[1]["exception"] == "ValueError" and "secret-ish" not in json.dumps(lines[1])
    assert JSONFormatter("a", "b").format(logging.makeLogRecord({"msg": "x"})).startswith("{")


def test_price_table_prefixes_overrides_and_unknown_models() -> None:
    table = PriceTable({"my-model": {"input": 1.0, "output": 2.0}, "gpt-4o-mini": {"input": 9, "output": 9}})
    assert table.price("openai/gpt-4o-2024-08-06") == (2.50, 10.00)
    assert table.price("gpt-4o-mini-2024-07-18") == (9.0, 9.0), "Dockfile override wins, by prefix too"
    assert table.cost("my-model", 1_000_000, 500_000) == pytest.approx(2.0)
    assert table.price("claude-3-5-sonnet-20241022") == (3.0, 15.0)
    assert table.cost("totally-unknown", 10, 10) is None and table.cost(None, 1, 1) is None


def test_ledger_aggregates_across_processes(tmp_path: Path) -> None:
    for latency in (10.0, 30.0):
        ledger = Ledger("a1", folder=tmp_path)
        ledger.observe("/invoke", 200, latency, {"input_tokens": 5, "output_tokens": 7}, 0.001)
        ledger.observe("/invoke", 403, 1.0, None, None)
        ledger.stop()
    rows = {(r["route"], r["status"]): r for r in aggregate("a1", folder=tmp_path)}
    ok = rows[("/invoke", 200)]
    assert ok["requests"] == 2 and ok["latency_ms_avg"] == 20.0 and ok["latency_ms_max"] == 30.0
    assert ok["input_tokens"] == 10 and ok["cost_usd"] == pytest.approx(0.002)
    assert rows[("/invoke", 403)]["errors"] == 2


def test_cost_counter_only_when_metrics_cost_is_on() -> None:
    from agentdock.spec.models import Metrics
    from agentdock.telemetry.metrics import RuntimeMetrics

    on = RuntimeMetrics("a1", "1", Metrics(cost=True))
    off = RuntimeMetrics("a1", "1", Metrics(cost=False))
    for metrics in (on, off):
        metrics.observe_cost(0.25)
        metrics.observe_cost(None)
        metrics.observe_telemetry("langfuse", "spooled", 3)
    assert b"agentdock_cost_usd_total 0.25" in on.render()
    assert b"agentdock_cost_usd_total 0.0" in off.render()
    assert b'agentdock_telemetry_spans_total{outcome="spooled",sink="langfuse"} 3.0' in on.render()


def test_grpc_otlp_is_refused_not_sent_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentdock.telemetry.otel_env import otlp_configured

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert not otlp_configured()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
    assert otlp_configured()
