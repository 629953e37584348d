"""Cold start: process exec -> first 200 on POST /invoke, against a script that imports, builds
and invokes the graph once. Best-of-N wall time (noise on a shared machine only ever adds) and the
median CPU time of the process (read from /proc when the first answer arrives)."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.graph import INPUT
from bench.loadgen import build_request, wait_until_up
from bench.servers import ROOT, cpu_seconds, free_port


def _time_to_200(args: list[str], env: dict[str, str], port: int, probe: bytes) -> tuple[float, float]:
    """(wall ms, process CPU ms) from exec to the first 200 on ``probe``."""
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wall = (asyncio.run(wait_until_up(port, probe, poll_s=0.002)) - started) * 1000.0
        return wall, cpu_seconds(proc.pid) * 1000.0
    finally:
        proc.terminate()
        proc.wait(15)


def _script_time(env: dict[str, str]) -> tuple[float, float]:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "cold_baseline.py")], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    wall = (time.monotonic() - started) * 1000.0
    cpu = cpu_seconds(proc.pid) * 1000.0
    proc.wait(15)
    return wall, cpu


def cold_start(env: dict[str, str], key: str, runs: int) -> dict[str, Any]:
    """Best-of-N wall time (noise on a shared machine only ever adds) and median CPU time."""
    samples: dict[str, list[tuple[float, float]]] = {
        "baseline_script": [],
        "bare_fastapi": [],
        "agentdock": [],
    }
    uv = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]
    for _ in range(runs):
        samples["baseline_script"].append(_script_time(env))
        port = free_port()
        bare_probe = build_request("POST", "/invoke", INPUT, {})
        samples["bare_fastapi"].append(
            _time_to_200([*uv, "--port", str(port), "bench.bare:app"], env, port, bare_probe)
        )
        port = free_port()
        probe = build_request("POST", "/invoke", INPUT, {"x-api-key": key})
        args = [*uv, "--port", str(port), "--factory", "agentdock.runtime.app:app_from_frozen"]
        samples["agentdock"].append(_time_to_200(args, env, port, probe))
    out: dict[str, Any] = {"runs": runs}
    for name, values in samples.items():
        out[name] = round(min(w for w, _ in values), 1)
        out[f"{name}_median"] = round(statistics.median(w for w, _ in values), 1)
        out[f"{name}_cpu"] = round(statistics.median(c for _, c in values), 1)
    out["added_vs_script_ms"] = round(out["agentdock"] - out["baseline_script"], 1)
    out["added_vs_bare_fastapi_ms"] = round(out["agentdock"] - out["bare_fastapi"], 1)
    out["added_cpu_vs_script_ms"] = round(out["agentdock_cpu"] - out["baseline_script_cpu"], 1)
    out["added_cpu_vs_bare_fastapi_ms"] = round(out["agentdock_cpu"] - out["bare_fastapi_cpu"], 1)
    return out
