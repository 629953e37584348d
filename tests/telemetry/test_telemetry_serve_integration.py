"""Done-when, as a new user would: ``agentdock serve`` with LANGFUSE_* at the stand-in shows a
trace per call with tokens and cost; with the stand-in stopped, 100 calls are spooled; after it
restarts, ``agentdock telemetry replay`` delivers all 100 (zero lost)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from rthelpers import free_port  # noqa: E402

from agentdock.testing.langfuse_standin import StandIn, decode_otlp  # noqa: E402

pytestmark = [pytest.mark.integration]
DOCKFILE = Path(__file__).resolve().parents[2] / "examples" / "invoice_copilot" / "Dockfile.yaml"
QUESTION = {"question": "What is the total of INV-1001?"}


def _wait(check: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _spooled_trace_ids(folder: Path) -> set[str]:
    ids: set[str] = set()
    for path in folder.glob("*.pb"):
        try:
            ids |= {span["trace_id"] for span in decode_otlp(path.read_bytes())}
        except (OSError, ValueError):
            continue  # claimed or half-seen: the next poll reads it
    return ids


def test_serve_trace_per_call_then_backend_down_100_calls_replayed(tmp_path: Path) -> None:
    standin = StandIn().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDOCK_", "LANGFUSE_", "OTEL_"))}
    env.update(
        {
            "AGENTDOCK_FAKE_MODEL": "1",
            "AGENTDOCK_HOME": str(tmp_path / "home"),
            "PYTHONUNBUFFERED": "1",
            "JWT_SECRET": "s" * 32,
            "LANGFUSE_PUBLIC_KEY": f"pk-lf-{uuid.uuid4().hex[:8]}",
            "LANGFUSE_SECRET_KEY": "sk-lf-standin",
            "LANGFUSE_BASE_URL": standin.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # export batches quickly (default 5 s)
        }
    )
    port = free_port()
    stderr_path = tmp_path / "stderr.log"
    stderr_file = stderr_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentdock", "serve", str(DOCKFILE), "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline()]
        while lines[-1] not in ("}\n", ""):
            lines.append(proc.stdout.readline())
        key = json.loads("".join(lines))["dev_api_key"]
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": key}, timeout=30)
        _wait(lambda: client.get("/health").status_code == 200, 30, "the server")

        first = [client.post("/invoke", json=QUESTION) for _ in range(3)]
        assert all(r.status_code == 200 for r in first)
        first_ids = {r.headers["x-trace-id"] for r in first}
        _wait(lambda: first_ids <= set(standin.received.traces()), 20, "the first traces")
        for trace_id in first_ids:
            spans = standin.received.traces()[trace_id]
            generation = next(
                s for s in spans if s["attributes"].get("langfuse.observation.type") == "generation"
            )
            assert json.loads(generation["attributes"]["langfuse.observation.usage_details"])["input"] > 0
            assert json.loads(generation["attributes"]["langfuse.observation.cost_details"])["total"] > 0

        standin.stop()
        down = [client.post("/invoke", json=QUESTION) for _ in range(100)]
        assert all(r.status_code == 200 for r in down)
        down_ids = {r.headers["x-trace-id"] for r in down}
        assert len(down_ids) == 100
        spool = tmp_path / "home" / "spool" / "invoice_copilot" / "langfuse"
        _wait(lambda: down_ids <= _spooled_trace_ids(spool), 60, "100 spooled traces")
        metrics = client.get("/metrics").text
        assert 'agentdock_telemetry_spans_total{outcome="spooled",sink="langfuse"}' in metrics

        standin.start()  # same port
        replayed = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentdock",
                "telemetry",
                "replay",
                "--agent",
                "invoice_copilot",
                "--json",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert json.loads(replayed.stdout)["left_batches"] == 0
        lost = down_ids - set(standin.received.traces())
        assert not lost, f"{len(lost)} of 100 traces lost"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
        stderr_file.close()
        standin.stop()

    # Every log line the server wrote is JSON: request lines on stdout, agentdock.* and library
    # warnings on stderr (the uvicorn access log is off).
    logged = [
        line for line in (rest or "").splitlines() + stderr_path.read_text().splitlines() if line.strip()
    ]
    assert len([json.loads(line) for line in logged]) >= 103

    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentdock",
            "metrics",
            "export",
            "--agent",
            "invoice_copilot",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    rows = json.loads(exported.stdout)
    invoke = next(r for r in rows if r["route"] == "/invoke" and r["status"] == 200)
    assert invoke["requests"] == 103 and invoke["input_tokens"] > 0 and invoke["cost_usd"] > 0
