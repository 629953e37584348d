"""Runtime benchmark: what AgentDock's serving stack costs around a real graph.

    python -m bench.runtime [--requests 3000] [--concurrency 32] [--cold-runs 5] [--streams 100]
                            [--no-readme] [--out bench/results]

One bounded run on 127.0.0.1 (uvicorn, one worker per server, a raw asyncio HTTP client):

* serving stack: CPU per request around an agent that answers instantly, in process (``stack.py``).
* throughput: the raw in-process ``graph.ainvoke``; a bare FastAPI route calling the same graph
  (``bench/bare.py``); AgentDock ``/invoke`` with API-key auth (bootstrap key), rate limiting,
  policies (injection rules, 2 redact patterns, tool gating, max_output_chars), input and output
  validation, metrics and the JSON request log all on. req/s, p50, p99, ratio to the bare route.
  Two alternating rounds per server; the better round counts (the machine is shared).
* cold start: process exec -> first 200 on /invoke for AgentDock (``app_from_frozen``) and the
  bare app, vs a script that imports, builds and invokes the graph once (``bench/cold_baseline.py``).
* time to first token: raw ``graph.astream`` first chunk (in process), the bare SSE route and
  AgentDock ``/stream`` (first ``token`` event), sequential requests, p50.

Targets (printed and stored): throughput >= 0.95x bare; added cold start <= 250 ms; TTFT <= bare
SSE + 1 ms. Results go to ``bench/results/runtime-<time>.json`` and the table in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import stack
from bench.coldstart import cold_start
from bench.graph import INPUT, build_graph
from bench.loadgen import LoadResult, build_request, first_token_ms, run_load
from bench.report import update_readme
from bench.servers import ROOT, cpu_seconds, server, workspace

SPEC: dict[str, Any] = {
    "version": "1.0",
    "agent": {"name": "bench_agent", "entrypoint": "bench_graph:build_graph", "framework": "langgraph"},
    "model": {"provider": "openai", "name": "gpt-4o-mini"},
    "io_schema": {
        "input": {
            "type": "object",
            "properties": {"text": {"type": "string", "maxLength": 4000, "description": "Text."}},
            "required": ["text"],
        },
        "output": {
            "type": "object",
            "properties": {"summary": {"type": "string", "description": "Summary."}},
            "required": ["summary"],
        },
    },
    "arguments": {"timeout_sec": 30},
    "policies": {
        "tools": {"allowed": ["lookup"], "deny_by_default": True},
        "safety": {
            "redact_patterns": [r"\b\d{16}\b", r"[\w.+-]+@[\w-]+\.[\w.-]+"],
            "max_output_chars": 4000,
            "block_prompt_injection": True,
        },
    },
    "auth": {"mode": "api_key", "api_keys": {"enabled": True}, "rate_limits": {"developer": "100000000/m"}},
    "observability": {"log_level": "info", "metrics": {"latency": True, "tokens": True}},
    "expose": {"rest": True, "streaming": "sse"},
}


async def _raw_throughput(requests: int, concurrency: int) -> dict[str, Any]:
    graph = build_graph()
    latencies: list[float] = []
    remaining = iter(range(requests))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            await graph.ainvoke(dict(INPUT))
            latencies.append((time.perf_counter() - started) * 1000.0)

    for _ in range(200):
        await graph.ainvoke(dict(INPUT))
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": requests,
        "concurrency": concurrency,
        "req_per_s": round(requests / seconds, 1),
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)], 3),
        "errors": 0,
    }


async def _raw_first_chunk(streams: int) -> float:
    graph = build_graph()
    samples = []
    for _ in range(streams + 5):
        started = time.perf_counter()
        async for chunk, _meta in graph.astream(dict(INPUT), stream_mode="messages"):
            if chunk.content:
                samples.append((time.perf_counter() - started) * 1000.0)
                break
    return statistics.median(samples[5:])


def throughput(env: dict[str, str], key: str, requests: int, concurrency: int, rounds: int) -> dict[str, Any]:
    """All servers up at once, loaded in short alternating bursts, so a noisy neighbour hits every
    variant alike; req/s = requests / time summed over the bursts, CPU from /proc."""
    requests_for = {
        "bare": build_request("POST", "/invoke", INPUT, {}),
        "bare_adapter": build_request("POST", "/invoke-adapter", INPUT, {}),
        "agentdock": build_request("POST", "/invoke", INPUT, {"x-api-key": key}),
    }
    burst = max(100, requests // rounds)
    totals: dict[str, dict[str, Any]] = {
        k: {"seconds": 0.0, "cpu": 0.0, "lat": [], "errors": 0} for k in requests_for
    }
    with ExitStack() as stack:
        servers = {kind: stack.enter_context(server(kind, env, req)) for kind, req in requests_for.items()}
        for kind, (port, _pid) in servers.items():  # warm-up
            asyncio.run(run_load(port, requests_for[kind], requests=300, concurrency=concurrency))
        for _ in range(rounds):
            for kind, (port, pid) in servers.items():
                cpu_before = cpu_seconds(pid)
                result = asyncio.run(
                    run_load(port, requests_for[kind], requests=burst, concurrency=concurrency)
                )
                total = totals[kind]
                total["cpu"] += cpu_seconds(pid) - cpu_before
                total["seconds"] += result.seconds
                total["lat"] += result.latencies_ms
                total["errors"] += result.errors
    out: dict[str, Any] = {"raw_graph": asyncio.run(_raw_throughput(burst * rounds, concurrency))}
    for kind, total in totals.items():
        count = burst * rounds
        summary = LoadResult(count, concurrency, total["seconds"], total["lat"], total["errors"]).summary()
        summary["server_cpu_us_per_req"] = round(total["cpu"] / count * 1e6, 1)
        out[kind] = summary
    bare_cpu, agentdock_cpu = out["bare"]["server_cpu_us_per_req"], out["agentdock"]["server_cpu_us_per_req"]
    out["ratio_vs_bare"] = round(out["agentdock"]["req_per_s"] / out["bare"]["req_per_s"], 3)
    # Capacity from server CPU per request: what req/s would be on a dedicated core.
    out["cpu_ratio_vs_bare"] = round(bare_cpu / agentdock_cpu, 3) if agentdock_cpu else None
    out["runtime_only_ratio"] = round(out["agentdock"]["req_per_s"] / out["bare_adapter"]["req_per_s"], 3)
    return out


def time_to_first_token(env: dict[str, str], key: str, streams: int) -> dict[str, Any]:
    """Sequential streams, the variants interleaved request by request; p50 per variant."""
    out: dict[str, Any] = {"raw_astream_ms": round(asyncio.run(_raw_first_chunk(streams)), 3)}
    no_redact = {**env, "AGENTDOCK_SPEC": env["AGENTDOCK_SPEC"].replace("spec.json", "spec-noredact.json")}
    variants = {
        "bare_sse_ms": ("bare", env, {}),
        "agentdock_sse_ms": ("agentdock", no_redact, {"x-api-key": key}),
        "agentdock_sse_redacting_ms": ("agentdock", env, {"x-api-key": key}),
    }
    with ExitStack() as stack:
        targets = {}
        for name, (kind, server_env, headers) in variants.items():
            port, _pid = stack.enter_context(
                server(kind, server_env, build_request("POST", "/invoke", INPUT, headers))
            )
            targets[name] = (port, build_request("POST", "/stream", INPUT, headers))

        async def sample() -> dict[str, list[float]]:
            samples: dict[str, list[float]] = {name: [] for name in targets}
            for i in range(streams + 5):
                for name, (port, request) in targets.items():
                    value = await first_token_ms(port, request, b"event: token")
                    if i >= 5:
                        samples[name].append(value)
            return samples

        for name, values in asyncio.run(sample()).items():
            out[name] = round(statistics.median(values), 3)
    out["added_vs_bare_ms"] = round(out["agentdock_sse_ms"] - out["bare_sse_ms"], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="AgentDock runtime benchmark (bounded, ~1-2 minutes).")
    parser.add_argument("--requests", type=int, default=3000, help="Requests per throughput round.")
    parser.add_argument("--concurrency", type=int, default=32, help="Concurrent keep-alive connections.")
    parser.add_argument("--rounds", type=int, default=6, help="Alternating throughput bursts per server.")
    parser.add_argument("--cold-runs", type=int, default=5, help="Cold starts per variant (median).")
    parser.add_argument("--streams", type=int, default=100, help="Streams per TTFT variant (median).")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results", help="Folder for the JSON result."
    )
    parser.add_argument("--no-readme", action="store_true", help="Do not update bench/README.md.")
    args = parser.parse_args(argv)
    began = time.monotonic()
    with workspace(SPEC) as (folder, env, key):
        print("serving stack (in process) ...", flush=True)
        for name in [n for n in os.environ if n.startswith("AGENTDOCK_")]:
            del os.environ[name]
        os.environ.update({k: v for k, v in env.items() if k.startswith("AGENTDOCK_")})
        stack_cost = stack.measure(SPEC, folder, key)
        print("throughput ...", flush=True)
        tput = throughput(env, key, args.requests, args.concurrency, args.rounds)
        print("time to first token ...", flush=True)
        ttft = time_to_first_token(env, key, args.streams)
        print("cold start ...", flush=True)
        cold = cold_start(env, key, args.cold_runs)
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = {
        "benchmark": "runtime",
        "when": when,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "serving_stack_cpu": stack_cost,
        "throughput": tput,
        "cold_start_ms": cold,
        "time_to_first_token": ttft,
        "targets": {
            "throughput_ratio_ge_0.95": tput["ratio_vs_bare"] >= 0.95,
            "added_cold_start_le_250ms": cold["added_vs_script_ms"] <= 250,
            "ttft_le_bare_plus_1ms": ttft["added_vs_bare_ms"] <= 1.0,
        },
        "duration_s": round(time.monotonic() - began, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"runtime-{when.replace(':', '').replace('-', '')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table = update_readme(result, ROOT / "bench" / "README.md", write=not args.no_readme)
    print(table)
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
