"""Backend down: responses unaffected, spans spooled and counted, replay delivers every one."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_telemetry_langfuse import invoice_app  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from rthelpers import client_for  # noqa: E402

from agentdock.telemetry.replay import replay  # noqa: E402
from agentdock.telemetry.spool import OTLPSink, Spool  # noqa: E402
from agentdock.testing.langfuse_standin import StandIn  # noqa: E402

pytestmark = [pytest.mark.functional]


def test_spool_is_bounded_and_drains_oldest_first(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=100)
    assert spool.put(b"a" * 40, 2, "http://x") and spool.put(b"b" * 40, 3, "http://x")
    assert not spool.put(b"c" * 40, 1, "http://x"), "over max_bytes: dropped, not grown"
    sent: list[bytes] = []
    assert spool.drain(lambda body: sent.append(body) or True) == (2, 5)
    assert sent == [b"a" * 40, b"b" * 40] and spool.batches() == [] and spool.endpoint() == "http://x"


def test_a_failed_send_leaves_the_batch_for_later(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s")
    spool.put(b"x", 1, "http://127.0.0.1:9/")
    assert spool.drain(OTLPSink("http://127.0.0.1:9/v1/traces", timeout_s=0.5).send) == (0, 0)
    assert len(spool.batches()) == 1


@pytest.mark.asyncio
async def test_backend_down_spools_every_trace_and_replay_delivers_them(
    standin: StandIn, telemetry_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.stop()  # the backend is down from the first request
    lines: list[str] = []
    app, headers = invoice_app(telemetry_env, lines)
    question = {"question": "What is the total of INV-1001?"}
    async with client_for(app) as client:
        started = time.perf_counter()
        answers = [await client.post("/invoke", json=question, headers=headers) for _ in range(10)]
        elapsed = time.perf_counter() - started
        assert app.state.telemetry.flush(10.0)
        metrics = (await client.get("/metrics", headers=headers)).text
    assert all(a.status_code == 200 for a in answers) and elapsed < 10
    ids = {a.headers["x-trace-id"] for a in answers}
    assert 'agentdock_telemetry_spans_total{outcome="spooled",sink="langfuse"}' in metrics
    assert 'outcome="dropped"' not in metrics
    spool_dir = Path(telemetry_env["AGENTDOCK_HOME"]) / "spool" / "invoice_copilot" / "langfuse"
    assert list(spool_dir.glob("*.pb"))
    for body in (p.read_bytes() for p in spool_dir.glob("*.pb")):
        assert b"4111111111111111" not in body and b"sk-lf-" not in body  # no secret on disk

    standin.start()  # same port: the backend is back
    results = replay("invoice_copilot")
    assert results and results[0].left == 0 and results[0].spans > 0
    assert ids <= set(standin.received.traces()), "zero lost: every call's trace arrived"
    auth = {h.get("authorization") for h in standin.received.headers}
    assert len(auth) == 1 and next(iter(auth)).startswith("Basic ")
    assert not list(spool_dir.glob("*.pb"))
    json.dumps([r.__dict__ for r in results])


@pytest.mark.asyncio
async def test_sample_rate_zero_traces_nothing_but_still_counts(
    standin: StandIn, telemetry_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTDOCK_TRACE_SAMPLE_RATE", "0")
    lines: list[str] = []
    app, headers = invoice_app(telemetry_env, lines)
    async with client_for(app) as client:
        answer = await client.post(
            "/invoke", json={"question": "What is the total of INV-1001?"}, headers=headers
        )
        assert app.state.telemetry.flush(5.0)
    assert answer.status_code == 200 and standin.received.spans == []
    assert json.loads(lines[-1])["cost_usd"] > 0, "the log line still has the cost"


@pytest.mark.asyncio
async def test_serverless_flushes_each_run_within_a_hard_cap(
    standin: StandIn, telemetry_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On Lambda the trace is delivered before the invocation ends; a backend that accepts the
    connection and never answers costs at most the flush cap, and the batch ends in the spool."""
    import socket

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "invoice-fn")
    monkeypatch.setenv("AGENTDOCK_TELEMETRY_FLUSH_S", "0.3")
    monkeypatch.setenv("AGENTDOCK_TELEMETRY_TIMEOUT_S", "3.0")
    monkeypatch.setattr("agentdock.telemetry.spool.spool_root", lambda: tmp_path / "spool")
    monkeypatch.setattr("agentdock.telemetry.hub.in_function", lambda: True)
    question = {"question": "What is the total of INV-1001?"}
    app, headers = invoice_app(telemetry_env, [])
    async with client_for(app) as client:
        answer = await client.post("/invoke", json=question, headers=headers)
        assert answer.headers["x-trace-id"] in standin.received.traces(), "flushed before the run ended"

    with socket.socket() as blackhole:  # listens, never accepts: sends hang until the timeout
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(8)
        monkeypatch.setenv("LANGFUSE_BASE_URL", f"http://127.0.0.1:{blackhole.getsockname()[1]}")
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", telemetry_env["LANGFUSE_PUBLIC_KEY"] + "-bh")
        app, headers = invoice_app({**telemetry_env, "LANGFUSE_PUBLIC_KEY": "pk-bh"}, [])
        async with client_for(app) as client:
            started = time.perf_counter()
            slow = await client.post("/invoke", json=question, headers=headers)
            elapsed = time.perf_counter() - started
            # uncapped, the flush would wait for the 3 s export timeout
            assert slow.status_code == 200 and elapsed < 2.0, elapsed
            assert app.state.telemetry.flush(10.0)
        assert list((tmp_path / "spool" / "invoice_copilot" / "langfuse").glob("*.pb"))
