"""The real Langfuse SDK sends to the stand-in: trace contents, tags, cost, redaction."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from rthelpers import client_for  # noqa: E402

from agentdock.runtime.app import create_app  # noqa: E402
from agentdock.spec import load_dockfile  # noqa: E402
from agentdock.testing.langfuse_standin import StandIn  # noqa: E402

pytestmark = [pytest.mark.functional, pytest.mark.asyncio]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "invoice_copilot" / "Dockfile.yaml"
SECRETS = ("4111111111111111", "billing@acme.example")


def invoice_app(
    env: dict[str, str], lines: list[str], *, langfuse: bool = True, websocket: bool = False
) -> tuple[Any, dict[str, str]]:
    """The invoice_copilot example app and a developer's JWT; ``langfuse=False`` drops the
    Dockfile's langfuse block (the keys then come from os.environ only)."""
    loaded = load_dockfile(EXAMPLE, env={"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", **env})
    from agentdock.security.jwt import issue_token

    spec = loaded.spec
    if not langfuse:
        observability = spec.observability.model_copy(update={"langfuse": None})
        spec = spec.model_copy(update={"observability": observability})
    if websocket:
        spec = spec.model_copy(update={"expose": spec.expose.model_copy(update={"streaming": "websocket"})})
    token = issue_token(spec, sub="u1", role="developer", ttl_s=600)
    app = create_app(spec, base_dir=loaded.base_dir, log_sink=lines.append)
    return app, {"authorization": f"Bearer {token}"}


def attrs(span: dict[str, Any]) -> dict[str, Any]:
    return span["attributes"]


async def test_a_trace_per_call_with_nodes_tools_generations_cost_and_no_secret(
    standin: StandIn, telemetry_env: dict[str, str]
) -> None:
    lines: list[str] = []
    app, headers = invoice_app(telemetry_env, lines)
    question = {"question": "What is the total of INV-1001?"}
    async with client_for(app) as client:
        answer = await client.post("/invoke", json=question, headers=headers)
        refund = await client.post("/invoke", json={"question": "Refund invoice INV-1001"}, headers=headers)
        streamed = await client.post("/stream", json=question, headers=headers)
        assert app.state.telemetry.flush(10.0)
    assert answer.status_code == 200 and refund.status_code == 403 and streamed.status_code == 200
    traces = standin.received.traces()
    ids = [answer.headers["x-trace-id"], refund.headers["x-trace-id"], streamed.headers["x-trace-id"]]
    assert set(ids) <= set(traces), "one Langfuse trace per call, under the x-trace-id"

    spans = traces[ids[0]]
    root = next(s for s in spans if attrs(s).get("langfuse.observation.type") == "agent")
    assert root["name"] == "invoice_copilot /invoke"
    tags = attrs(root)["langfuse.trace.tags"]
    assert {"invoice_copilot", "version:1.2.0", "env:local", "role:developer"} <= set(tags)
    assert attrs(root)["user.id"] == "jwt:u1"
    assert attrs(root)["langfuse.environment"] == "local"
    kinds = {attrs(s).get("langfuse.observation.type") for s in spans}
    assert {"agent", "span", "tool", "generation"} <= kinds
    tool = next(s for s in spans if attrs(s).get("langfuse.observation.type") == "tool")
    assert tool["name"] == "lookup_invoice" and tool["parent_id"] is not None
    generation = next(s for s in spans if attrs(s).get("langfuse.observation.type") == "generation")
    usage = json.loads(attrs(generation)["langfuse.observation.usage_details"])
    cost = json.loads(attrs(generation)["langfuse.observation.cost_details"])
    assert usage["input"] > 0 and usage["output"] > 0
    # priced as the Dockfile's gpt-4o-mini: $0.15 / $0.60 per 1M tokens
    assert cost["total"] == pytest.approx((usage["input"] * 0.15 + usage["output"] * 0.60) / 1e6)
    assert all(s["start_ns"] <= s["end_ns"] for s in spans)
    nodes = [s for s in spans if attrs(s).get("langfuse.observation.type") == "span"]
    assert nodes and all(n["start_ns"] >= root["start_ns"] for n in nodes)

    denied = [s for s in traces[ids[1]] if attrs(s).get("langfuse.observation.type") == "tool"]
    assert any(attrs(s).get("langfuse.observation.level") == "WARNING" for s in denied)
    refund_root = next(s for s in traces[ids[1]] if attrs(s).get("langfuse.observation.type") == "agent")
    assert refund_root["attributes"]["langfuse.observation.level"] == "WARNING"
    events = {s["name"] for s in traces[ids[1]] if attrs(s).get("langfuse.observation.type") == "event"}
    assert "policy.tools.denied" in events
    redactions = {
        s["name"] for t in ids for s in traces[t] if attrs(s).get("langfuse.observation.type") == "event"
    }
    assert "policy.redact.redacted" in redactions

    # Redaction: no raw secret in anything the backend received (decoded bodies, every request).
    for body in standin.received.raw:
        for secret in SECRETS:
            assert secret.encode() not in body
    assert "[REDACTED]" in json.dumps(traces[ids[0]])

    # The log line carries the trace id and the cost.
    logged = [json.loads(line) for line in lines if '"msg":"request"' in line]
    first = next(entry for entry in logged if entry["trace_id"] == ids[0])
    assert first["cost_usd"] > 0


async def test_langfuse_off_imports_no_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cold start: without Langfuse keys or OTEL_* neither the Langfuse SDK, the OTLP exporter,
    Powertools nor our OTel plumbing is imported (langchain_core's langsmith imports the OTel
    API and SDK on its own, so those are not ours to keep out)."""
    import subprocess

    code = (
        "import sys, os\n"
        "from agentdock.spec import load_dockfile\n"
        "from agentdock.runtime.app import create_app\n"
        f"loaded = load_dockfile({str(EXAMPLE.parent.parent / 'doc_summarizer' / 'Dockfile.yaml')!r})\n"
        "create_app(loaded.spec, base_dir=loaded.base_dir, log_sink=lambda l: None)\n"
        "heavy = ('langfuse', 'aws_lambda_powertools', 'opentelemetry.exporter')\n"
        "ours = ('agentdock.telemetry.otel', 'agentdock.telemetry.recorder')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy) or m in ours))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("LANGFUSE_", "OTEL_"))}
    env["AGENTDOCK_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]", out.stdout


async def test_each_websocket_run_is_its_own_trace(standin: StandIn, telemetry_env: dict[str, str]) -> None:
    import websockets
    from rthelpers import serve

    app, headers = invoice_app(telemetry_env, [], websocket=True)
    with serve(app) as url:
        async with websockets.connect(
            url.replace("http", "ws") + "/ws/stream", additional_headers=headers
        ) as ws:
            starts, ends = [], []
            for question in ("What is the total of INV-1001?", "Refund invoice INV-1001"):
                await ws.send(json.dumps({"input": {"question": question}}))
                while True:
                    message = json.loads(await ws.recv())
                    if message["type"] == "start":
                        starts.append(message["trace_id"])
                    if message["type"] in ("end", "error"):
                        ends.append(message)
                        break
            handshake = ws.response.headers["x-trace-id"]
        assert app.state.telemetry.flush(10.0)
    traces = standin.received.traces()
    assert starts[0] == handshake and starts[1] != handshake
    assert set(starts) <= set(traces), "one trace per run, under the id its start event gave"
    roots = {
        t: next(s for s in traces[t] if attrs(s).get("langfuse.observation.type") == "agent") for t in starts
    }
    assert attrs(roots[starts[0]])["langfuse.observation.level"] == "DEFAULT"
    assert ends[1]["type"] == "error" and attrs(roots[starts[1]])["langfuse.observation.level"] == "WARNING"
    assert any(attrs(s).get("langfuse.observation.type") == "generation" for s in traces[starts[0]])
    assert "[REDACTED]" in json.dumps(traces[starts[0]]) and "4111111111111111" not in json.dumps(traces)


async def test_a_burst_of_runs_leaves_in_few_requests(
    standin: StandIn, telemetry_env: dict[str, str]
) -> None:
    """The request path only hands the run over; the worker exports what accumulated as one
    OTLP request per interval (or flush), not one per run."""
    app, headers = invoice_app(telemetry_env, [])
    async with client_for(app) as client:
        answers = [
            await client.post("/invoke", json={"question": "What is the total of INV-1001?"}, headers=headers)
            for _ in range(8)
        ]
        assert app.state.telemetry.flush(10.0)
    ids = {answer.headers["x-trace-id"] for answer in answers}
    assert ids <= set(standin.received.traces())
    assert len(standin.received.raw) < len(ids), "batched, not a request per run"
