"""The LangGraph API routes against AgentDock's own routes and against ``langgraph dev``.

``python -m bench.langgraph_api [--requests 1200] [--concurrency 16] [--rounds 4] [--streams 40]``

One graph everywhere (``bench/graph.py``: one node, the deterministic fake model). AgentDock
runs ``app_from_frozen`` with everything on (``bench.runtime.SPEC``: API-key auth, rate limit,
policies, validation, metrics, logs); ``langgraph dev`` (``langgraph-cli[inmem]``, the reference
server, no auth) serves the same graph. Both are one process on 127.0.0.1.

* throughput: ``POST /runs/wait`` (stateless) vs ``POST /invoke`` on the same AgentDock server,
  loaded in alternating bursts (as ``bench.runtime``), and ``/runs/wait`` on ``langgraph dev``;
* time to first token: ``POST /runs/stream`` (``messages-tuple``) vs ``POST /stream`` on
  AgentDock, and ``/runs/stream`` on ``langgraph dev``; sequential fresh connections, p50.

Target: the LangGraph routes within 10 % of AgentDock's own. Writes
``bench/results/langgraph_api-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench.graph import INPUT
from bench.loadgen import LoadResult, build_request, first_token_ms, run_load, wait_until_up
from bench.runtime import SPEC
from bench.servers import ROOT, free_port, server, workspace

LANGGRAPH_JSON = {"dependencies": ["."], "graphs": {"bench_agent": "./bench_graph.py:build_graph"}}


@contextmanager
def langgraph_dev() -> Iterator[int]:
    """``langgraph dev`` serving bench/graph.py on a free port (stopped on exit)."""
    cli = Path(sys.executable).parent / "langgraph"
    if not cli.exists():
        raise SystemExit("langgraph dev is not installed: pip install 'agentdock[langgraph-dev]'")
    with tempfile.TemporaryDirectory(prefix="agentdock-bench-lg-") as tmp:
        folder = Path(tmp)
        (folder / "bench_graph.py").write_text((ROOT / "bench" / "graph.py").read_text())
        (folder / "langgraph.json").write_text(json.dumps(LANGGRAPH_JSON))
        port = free_port()
        env = {
            **os.environ,
            "LANGSMITH_TRACING": "false",
            "LANGGRAPH_CLI_NO_ANALYTICS": "1",
            "PYTHONPATH": str(ROOT),
        }
        args = [str(cli), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(
            args,
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            asyncio.run(wait_until_up(port, build_request("GET", "/ok", None, {})))
            yield port
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)


def _wait_body() -> dict[str, Any]:
    return {"assistant_id": "bench_agent", "input": INPUT}


def _stream_body() -> dict[str, Any]:
    return {**_wait_body(), "stream_mode": ["messages-tuple"]}


def throughput(
    ports: dict[str, int], key: str, requests: int, concurrency: int, rounds: int
) -> dict[str, Any]:
    auth = {"x-api-key": key}
    variants = {
        "agentdock_invoke": (ports["agentdock"], build_request("POST", "/invoke", INPUT, auth)),
        "agentdock_runs_wait": (ports["agentdock"], build_request("POST", "/runs/wait", _wait_body(), auth)),
        "langgraph_dev_runs_wait": (
            ports["langgraph_dev"],
            build_request("POST", "/runs/wait", _wait_body(), {}),
        ),
    }
    burst = max(50, requests // rounds)
    totals = {name: {"seconds": 0.0, "lat": [], "errors": 0} for name in variants}
    for port, request in variants.values():  # warm-up
        asyncio.run(run_load(port, request, requests=100, concurrency=concurrency))
    for _ in range(rounds):
        for name, (port, request) in variants.items():
            result = asyncio.run(run_load(port, request, requests=burst, concurrency=concurrency))
            totals[name]["seconds"] += result.seconds
            totals[name]["lat"] += result.latencies_ms
            totals[name]["errors"] += result.errors
    out: dict[str, Any] = {}
    for name, total in totals.items():
        out[name] = LoadResult(
            burst * rounds, concurrency, total["seconds"], total["lat"], total["errors"]
        ).summary()
    own = out["agentdock_invoke"]["req_per_s"]
    out["runs_wait_vs_invoke"] = round(out["agentdock_runs_wait"]["req_per_s"] / own, 3)
    out["runs_wait_vs_langgraph_dev"] = round(
        out["agentdock_runs_wait"]["req_per_s"] / out["langgraph_dev_runs_wait"]["req_per_s"], 3
    )
    return out


def time_to_first_token(ports: dict[str, int], key: str, streams: int) -> dict[str, Any]:
    auth = {"x-api-key": key}
    variants = {
        "agentdock_stream_ms": (
            ports["agentdock"],
            build_request("POST", "/stream", INPUT, auth),
            b"event: token",
        ),
        "agentdock_runs_stream_ms": (
            ports["agentdock"],
            build_request("POST", "/runs/stream", _stream_body(), auth),
            b"event: messages",
        ),
        "langgraph_dev_runs_stream_ms": (
            ports["langgraph_dev"],
            build_request("POST", "/runs/stream", _stream_body(), {}),
            b"event: messages",
        ),
    }

    async def sample(names: list[str], count: int) -> dict[str, list[float]]:
        """Interleaved, the order rotated every round so no variant always follows another."""
        samples: dict[str, list[float]] = {name: [] for name in names}
        for i in range(count + 3):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                port, request, marker = variants[name]
                value = await first_token_ms(port, request, marker)
                if i >= 3:
                    samples[name].append(value)
        return samples

    async def both() -> dict[str, list[float]]:
        # AgentDock's two routes side by side, then the reference alone: its background queue
        # worker would otherwise load the CPU the AgentDock samples run on.
        ours = await sample(["agentdock_stream_ms", "agentdock_runs_stream_ms"], streams)
        return {**ours, **await sample(["langgraph_dev_runs_stream_ms"], max(5, streams // 4))}

    out: dict[str, Any] = {name: round(statistics.median(v), 3) for name, v in asyncio.run(both()).items()}
    out["runs_stream_vs_stream"] = round(out["agentdock_runs_stream_ms"] / out["agentdock_stream_ms"], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LangGraph API routes vs AgentDock's own and langgraph dev.")
    parser.add_argument("--requests", type=int, default=1200, help="Requests per variant (all rounds).")
    parser.add_argument("--concurrency", type=int, default=16, help="Concurrent keep-alive connections.")
    parser.add_argument("--rounds", type=int, default=4, help="Alternating bursts per variant.")
    parser.add_argument("--streams", type=int, default=40, help="Streams per TTFT variant (median).")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="Folder for the JSON.")
    args = parser.parse_args(argv)
    began = time.monotonic()
    # Rate limit and output limit as in bench.runtime; no redact patterns on the TTFT path (the
    # token filter's hold-back would measure the policy, not the route).
    spec = json.loads(json.dumps(SPEC))
    spec["policies"]["safety"]["redact_patterns"] = []
    with workspace(spec) as (_folder, env, key), ExitStack() as stack:
        ports = {
            "agentdock": stack.enter_context(
                server("agentdock", env, build_request("GET", "/health", None, {}))
            )[0],
            "langgraph_dev": stack.enter_context(langgraph_dev()),
        }
        result = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cpus": os.cpu_count(),
            "throughput": throughput(ports, key, args.requests, args.concurrency, args.rounds),
            "time_to_first_token": time_to_first_token(ports, key, args.streams),
        }
    result["seconds"] = round(time.monotonic() - began, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"langgraph_api-{result['when'].replace(':', '')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
