"""``agentdock serve`` throughput on an agent + tool graph, everything on, vs a bare FastAPI route.

    python -m bench.serve [--requests 3000] [--concurrency 32] [--rounds 6] [--out bench/results]

What users run (issue 17): the ``agentdock serve`` command (not ``app_from_frozen`` in a test
harness) on a Dockfile whose graph has an agent node and a tool node (``bench/tools_graph.py``),
with API-key auth, the store-backed (shared) rate limiter (SQLite store,
``AGENTDOCK_SHARED_RATE_LIMIT=1``), tool gating, injection rules, 2 redact patterns,
``max_output_chars``, input and output validation, Prometheus metrics and the JSON request log
(to a file) all on. The baseline is ``bench/serve_bare.py``: the same graph behind a FastAPI
route under plain uvicorn (httptools, access log off). Both servers run at once and are loaded in
short alternating bursts with keep-alive connections; req/s = requests / summed burst time.
Target: >= 0.95x the bare route.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.loadgen import build_request, run_load, wait_until_up
from bench.servers import ROOT, cpu_seconds, free_port, uvicorn_process
from bench.tools_graph import INPUT

DOCKFILE = """
version: "1.0"
agent: {name: bench_tools, entrypoint: "bench_tools_graph:build_graph", framework: langgraph}
model: {provider: openai, name: gpt-4o-mini}
io_schema:
  input:
    type: object
    properties: {text: {type: string, maxLength: 4000, description: Text.}}
    required: [text]
  output:
    type: object
    properties: {summary: {type: string, description: Summary.}}
    required: [summary]
arguments: {timeout_sec: 30}
policies:
  tools: {allowed: [lookup], deny_by_default: true}
  safety:
    redact_patterns: ['\\b\\d{16}\\b', '[\\w.+-]{1,32}@[\\w-]{1,32}\\.[\\w.-]{2,24}']
    max_output_chars: 4000
    block_prompt_injection: true
auth:
  mode: api_key
  api_keys: {enabled: true}
  rate_limits: {admin: 100000000/m}
observability: {tracing: false, log_level: info, metrics: {latency: true, tokens: true}}
expose: {rest: true, streaming: sse}
"""


def start_serve(folder: Path, port: int, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, Path]:
    """``agentdock serve --json``; returns the process, the session key and its stdout file."""
    log = folder / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentdock",
                "serve",
                str(folder / "Dockfile.yaml"),
                "--port",
                str(port),
                "--json",
            ],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        end = text.find("\n}\n")
        if end >= 0:
            return proc, json.loads(text[: end + 2])["dev_api_key"], log
        if proc.poll() is not None:
            raise RuntimeError(
                f"agentdock serve exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}"
            )
        time.sleep(0.05)
    raise TimeoutError("agentdock serve printed no summary")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agentdock-bench-serve-") as tmp:
        folder = Path(tmp)
        shutil.copy(ROOT / "bench" / "tools_graph.py", folder / "bench_tools_graph.py")
        (folder / "Dockfile.yaml").write_text(DOCKFILE, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDOCK_")}
        env.update(
            AGENTDOCK_HOME=str(folder / "home"),
            AGENTDOCK_STORE=f"sqlite:///{folder / 'store.db'}",
            AGENTDOCK_SHARED_RATE_LIMIT="1",
            AGENTDOCK_FAKE_MODEL="1",
            PYTHONPATH=str(ROOT),
        )
        serve_port, bare_port = free_port(), free_port()
        serve_proc, key, _log = start_serve(folder, serve_port, env)
        bare_proc = uvicorn_process("bench.serve_bare:app", bare_port, env)
        requests = {
            "agentdock serve": (
                serve_port,
                serve_proc.pid,
                build_request("POST", "/invoke", INPUT, {"x-api-key": key}),
            ),
            "bare FastAPI route": (bare_port, bare_proc.pid, build_request("POST", "/invoke", INPUT, {})),
        }
        try:
            for port, _pid, request in requests.values():
                asyncio.run(wait_until_up(port, request))
                asyncio.run(run_load(port, request, requests=300, concurrency=args.concurrency))
            burst = max(100, args.requests // args.rounds)
            totals = {name: {"seconds": 0.0, "cpu": 0.0, "lat": [], "errors": 0} for name in requests}
            for _ in range(args.rounds):
                for name, (port, pid, request) in requests.items():
                    before = cpu_seconds(pid)
                    result = asyncio.run(
                        run_load(port, request, requests=burst, concurrency=args.concurrency)
                    )
                    total = totals[name]
                    total["cpu"] += cpu_seconds(pid) - before
                    total["seconds"] += result.seconds
                    total["lat"] += result.latencies_ms
                    total["errors"] += result.errors
        finally:
            for proc in (serve_proc, bare_proc):
                proc.terminate()
                proc.wait(15)
    done = burst * args.rounds
    rows: dict[str, dict[str, Any]] = {}
    for name, t in totals.items():
        ordered = sorted(t["lat"])
        rows[name] = {
            "req_per_s": round(done / t["seconds"], 1),
            "p50_ms": round(statistics.median(ordered), 3),
            "p99_ms": round(ordered[int(len(ordered) * 0.99)], 3),
            "cpu_us_per_req": round(t["cpu"] / done * 1e6, 1),
            "errors": t["errors"],
        }
    ratio = rows["agentdock serve"]["req_per_s"] / rows["bare FastAPI route"]["req_per_s"]
    cpu_ratio = rows["bare FastAPI route"]["cpu_us_per_req"] / rows["agentdock serve"]["cpu_us_per_req"]
    report = {
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "requests_per_server": done,
        "concurrency": args.concurrency,
        "results": rows,
        "ratio_req_per_s": round(ratio, 3),
        "ratio_cpu_per_req": round(cpu_ratio, 3),
        "target": 0.95,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"serve-{report['at'].replace(':', '')}.json").write_text(json.dumps(report, indent=2))
    print(f"{'':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}{'errors':>8}")
    for name, row in rows.items():
        print(
            f"{name:<22}{row['req_per_s']:>9}{row['p50_ms']:>9}{row['p99_ms']:>9}"
            f"{row['cpu_us_per_req']:>12}{row['errors']:>8}"
        )
    print(
        f"agentdock serve / bare: {ratio:.3f}x req/s, {cpu_ratio:.3f}x by CPU per request (target >= 0.95x)"
    )


if __name__ == "__main__":
    main()
