"""Telemetry benchmark: what Langfuse tracing costs the runtime, in one bounded run.

    python -m bench.telemetry [--requests 2000] [--concurrency 16] [--rounds 4] [--cold-runs 5]

Three AgentDock servers on 127.0.0.1 (uvicorn, one worker each, the ``bench.runtime`` spec and
graph), loaded in alternating bursts so a noisy neighbour hits each alike:

* ``off``: no trace backend (no LANGFUSE_*, no OTEL_*);
* ``on``: LANGFUSE_* at the Langfuse stand-in (``agentdock.testing.langfuse_standin``, in this
  process), the real SDK exporting every trace;
* ``down``: LANGFUSE_* at a port where nothing listens: every batch fails and is spooled;
* ``on_sampled_10pct``: ``on`` with ``AGENTDOCK_TRACE_SAMPLE_RATE=0.1``.

Reported: req/s, p50 and p95 per variant and the p95 added vs ``off`` (target <= 5 %, and no
added latency when the backend is down), traces delivered to the stand-in, and the cold start
(exec -> first 200) with Langfuse on vs off plus the SDK's import time alone.
Results go to ``bench/results/telemetry-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentdock.testing.langfuse_standin import StandIn
from bench.coldstart import _time_to_200
from bench.graph import INPUT
from bench.loadgen import build_request, run_load
from bench.runtime import SPEC
from bench.servers import ROOT, free_port, server, workspace


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def variants(env: dict[str, str], standin: StandIn, home: Path) -> dict[str, dict[str, str]]:
    base = {k: v for k, v in env.items() if not k.startswith(("LANGFUSE_", "OTEL_"))}
    base["AGENTDOCK_HOME"] = str(home)

    def langfuse(url: str) -> dict[str, str]:
        return {
            **base,
            "LANGFUSE_PUBLIC_KEY": f"pk-lf-{uuid.uuid4().hex[:8]}",
            "LANGFUSE_SECRET_KEY": "sk-lf-bench",
            "LANGFUSE_BASE_URL": url,
        }

    return {
        "off": base,
        "on": langfuse(standin.url),
        "down": langfuse(f"http://127.0.0.1:{free_port()}"),
        "on_sampled_10pct": {**langfuse(standin.url), "AGENTDOCK_TRACE_SAMPLE_RATE": "0.1"},
    }


def load(
    envs: dict[str, dict[str, str]], key: str, requests: int, concurrency: int, rounds: int
) -> dict[str, Any]:
    request = build_request("POST", "/invoke", INPUT, {"x-api-key": key})
    burst = max(100, requests // rounds)
    totals = {name: {"seconds": 0.0, "lat": [], "errors": 0} for name in envs}
    with ExitStack() as stack:
        ports = {
            name: stack.enter_context(server("agentdock", env, request))[0] for name, env in envs.items()
        }
        for port in ports.values():  # warm-up
            asyncio.run(run_load(port, request, requests=200, concurrency=concurrency))
        for _ in range(rounds):
            for name, port in ports.items():
                result = asyncio.run(run_load(port, request, requests=burst, concurrency=concurrency))
                totals[name]["seconds"] += result.seconds  # type: ignore[operator]
                totals[name]["lat"] += result.latencies_ms  # type: ignore[operator]
                totals[name]["errors"] += result.errors  # type: ignore[operator]
        time.sleep(2.0)  # let the batch processors of "on" deliver before the servers stop
    out: dict[str, Any] = {}
    for name, total in totals.items():
        lat: list[float] = total["lat"]  # type: ignore[assignment]
        out[name] = {
            "requests": len(lat),
            "req_per_s": round(len(lat) / total["seconds"], 1),  # type: ignore[operator]
            "p50_ms": round(statistics.median(lat), 3),
            "p95_ms": round(p95(lat), 3),
            "errors": total["errors"],
        }
    for name in ("on", "down", "on_sampled_10pct"):
        out[f"{name}_added_p95_pct"] = round((out[name]["p95_ms"] / out["off"]["p95_ms"] - 1) * 100, 1)
    return out


def import_ms(runs: int) -> float:
    code = "import time; t = time.perf_counter(); import langfuse, opentelemetry.exporter.otlp.proto.common.trace_encoder; print((time.perf_counter() - t) * 1000)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return round(min(samples), 1)


def cold(envs: dict[str, dict[str, str]], key: str, runs: int) -> dict[str, Any]:
    probe = build_request("POST", "/invoke", INPUT, {"x-api-key": key})
    uv = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]
    out: dict[str, Any] = {}
    for name in ("off", "on"):
        walls = []
        for _ in range(runs):
            port = free_port()
            args = [*uv, "--port", str(port), "--factory", "agentdock.runtime.app:app_from_frozen"]
            walls.append(_time_to_200(args, envs[name], port, probe)[0])
        out[f"{name}_ms"] = round(min(walls), 1)
    out["added_ms"] = round(out["on_ms"] - out["off_ms"], 1)
    out["sdk_import_ms"] = import_ms(runs)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Telemetry overhead benchmark (bounded, ~1 minute).")
    parser.add_argument("--requests", type=int, default=2000, help="Requests per variant (all rounds).")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    began = time.monotonic()
    with workspace(SPEC) as (_folder, env, key), tempfile.TemporaryDirectory() as home, StandIn() as standin:
        envs = variants(env, standin, Path(home))
        result: dict[str, Any] = {"load": load(envs, key, args.requests, args.concurrency, args.rounds)}
        result["traces_delivered_on"] = len(standin.received.traces())
        spooled = list(Path(home).glob("spool/*/langfuse/*.pb"))
        result["batches_spooled_down"] = len(spooled)
        result["cold_start"] = cold(envs, key, args.cold_runs)
    result["seconds"] = round(time.monotonic() - began, 1)
    result["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"telemetry-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
