"""Telemetry CPU per traced request, in process: deterministic where wall-clock is not.

    python -m bench.telemetry_cpu [--requests 1000] [--batches 5] [--graph bench|invoice] [--profile DIR]

The app (``bench.runtime``'s spec and graph, or the ``invoice_copilot`` example with its tool
and policy events) is called through ASGI in this process; the Langfuse stand-in runs in a
subprocess, so its decoding is not counted. For each variant (``off``: no trace backend;
``on``: Langfuse at the stand-in, the real SDK exporting every trace) and each batch of
requests, after the batch is flushed:

* request path: CPU of the event-loop thread (``time.thread_time``) per request;
* background: CPU of every other thread of this process (the telemetry worker, the SDK's batch
  processor, flushers) per request.

Reported: the median over batches and tracing's cost on each side (the median of ``on`` minus
``off`` over rounds: the variants alternate batch by batch, so a noisy neighbour hits both
alike). With ``--profile DIR`` the event-loop thread is profiled (cProfile) into
DIR/<variant>.prof and the Python function calls per request are reported: deterministic, where
CPU time on a shared machine is not (the CPU figures are then inflated by the profiler).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench.graph import INPUT
from bench.runtime import SPEC
from bench.servers import ROOT, workspace
from bench.stack import _scope

INVOICE = ROOT / "examples" / "invoice_copilot" / "Dockfile.yaml"
INVOICE_INPUT = {"question": "What is the total of INV-1001? Mail billing@acme.example"}


def standin() -> tuple[subprocess.Popen[str], str, list[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentdock.testing.langfuse_standin"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    url = json.loads(proc.stdout.readline())["url"]
    traces = [0]

    def drain() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            traces[0] += 1

    threading.Thread(target=drain, daemon=True).start()
    return proc, url, traces


def thread_cpu(thread: threading.Thread) -> float:
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident or 0))
    except (OSError, ProcessLookupError):
        return 0.0


class Cpu:
    """CPU seconds of the calling (event-loop) thread and of every other live thread. A thread
    that ends between two reads loses its time: the telemetry threads live as long as the app."""

    def __init__(self) -> None:
        self.main = threading.current_thread()

    def read(self) -> tuple[float, float]:
        others = sum(thread_cpu(t) for t in threading.enumerate() if t is not self.main)
        return time.thread_time(), others


async def _call(app: Any, headers: list[tuple[bytes, bytes]], body: bytes, path: str = "/invoke") -> int:
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(path, headers), receive, send)
    return status


def bench_app(folder: Path) -> Any:
    from agentdock.runtime.app import app_from_frozen

    sys.path.insert(0, str(folder))
    app = app_from_frozen(folder / "spec.json")
    app.state.runtime.host.log.sink = lambda line: None  # the line is still built, not written
    return app


def invoice_app() -> tuple[Any, dict[str, str]]:
    from agentdock.runtime.app import create_app
    from agentdock.security.jwt import issue_token
    from agentdock.spec import load_dockfile

    loaded = load_dockfile(
        INVOICE, env={"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", **os.environ}
    )
    spec = loaded.spec  # its rate limit (100/min) would answer 429 to a benchmark
    spec = spec.model_copy(
        update={"auth": spec.auth.model_copy(update={"rate_limits": {"developer": "100000000/m"}})}
    )
    token = issue_token(spec, sub="u1", role="developer", ttl_s=3600)
    app = create_app(spec, base_dir=loaded.base_dir, log_sink=lambda line: None)
    return app, {"authorization": f"Bearer {token}"}


def measure(
    apps: dict[str, tuple[Any, dict[str, str]]],
    body: bytes,
    requests: int,
    batches: int,
    profile: Path | None,
) -> dict[str, Any]:
    """Alternating batches per variant (a noisy neighbour hits each alike); medians over batches."""
    cpu = Cpu()
    common = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raws = {name: [(k.encode(), v.encode()) for k, v in h.items()] + common for name, (_, h) in apps.items()}

    async def run() -> dict[str, dict[str, list[float]]]:
        samples: dict[str, dict[str, list[float]]] = {
            name: {"request_us": [], "background_us": []} for name in apps
        }
        async with AsyncExitStack() as stack:
            for app, _ in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            for name, (app, _) in apps.items():
                for _ in range(200):
                    assert await _call(app, raws[name], body) == 200
                if app.state.telemetry is not None:
                    await asyncio.to_thread(app.state.telemetry.flush, 30.0)
            profiles = {name: cProfile.Profile() for name in apps} if profile else {}
            for _ in range(batches):
                for name, (app, _) in apps.items():
                    telemetry = app.state.telemetry
                    main0, others0 = cpu.read()
                    if profiles:
                        profiles[name].enable()
                    for _ in range(requests):
                        await _call(app, raws[name], body)
                    if profiles:
                        profiles[name].disable()
                    main1, _ = cpu.read()
                    if telemetry is not None:
                        telemetry.flush(30.0)  # blocking: the loop thread only waits
                        time.sleep(0.05)
                    _, others1 = cpu.read()
                    samples[name]["request_us"].append((main1 - main0) / requests * 1e6)
                    samples[name]["background_us"].append((others1 - others0) / requests * 1e6)
            if profile:
                profile.mkdir(parents=True, exist_ok=True)
                for name, prof in profiles.items():
                    prof.dump_stats(str(profile / f"{name}.prof"))
        return samples

    out: dict[str, Any] = {}
    samples = asyncio.run(run())
    for name, values in samples.items():
        out[name] = {side: round(statistics.median(v), 1) for side, v in values.items()}
        out[name]["samples"] = {side: [round(x, 1) for x in v] for side, v in values.items()}
    if "on" in samples and "off" in samples:  # per round, so both sides of a pair saw the same load
        out["tracing_cost_us"] = {
            side: round(
                statistics.median(
                    [a - b for a, b in zip(samples["on"][side], samples["off"][side], strict=True)]
                ),
                1,
            )
            for side in ("request_us", "background_us")
        }
    if profile:
        for name in apps:
            stats = pstats.Stats(str(profile / f"{name}.prof"))
            out[name]["python_calls_per_request"] = round(stats.total_calls / (requests * batches), 1)  # type: ignore[attr-defined]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Telemetry CPU per traced request, in process.")
    parser.add_argument("--requests", type=int, default=1000, help="Requests per batch.")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--graph", choices=("bench", "invoice"), default="bench")
    parser.add_argument("--variants", default="off,on")
    parser.add_argument(
        "--profile", type=Path, default=None, help="cProfile the event-loop thread into DIR/<variant>.prof."
    )
    args = parser.parse_args(argv)
    proc, url, traces = standin()
    try:
        with workspace(SPEC) as (folder, env, key):
            os.environ.update({k: v for k, v in env.items() if k.startswith("AGENTDOCK_")})
            os.environ["AGENTDOCK_HOME"] = str(folder / "home")
            os.environ["JWT_SECRET"] = "s" * 32
            apps = {}
            for name in args.variants.split(","):
                for var in [v for v in os.environ if v.startswith(("LANGFUSE_", "OTEL_"))]:
                    del os.environ[var]
                os.environ["AGENTDOCK_TELEMETRY"] = "on" if name == "on" else "off"
                if name == "on":
                    os.environ["LANGFUSE_PUBLIC_KEY"] = f"pk-lf-{uuid.uuid4().hex[:8]}"
                    os.environ["LANGFUSE_SECRET_KEY"] = "sk-lf-bench"
                    os.environ["LANGFUSE_BASE_URL"] = url
                if args.graph == "bench":
                    apps[name] = (bench_app(folder), {"x-api-key": key})
                else:
                    apps[name] = invoice_app()
            body = INPUT if args.graph == "bench" else INVOICE_INPUT
            results = measure(apps, json.dumps(body).encode(), args.requests, args.batches, args.profile)
            time.sleep(0.3)
            results["traces_delivered"] = traces[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    results["graph"], results["requests_per_batch"], results["batches"] = (
        args.graph,
        args.requests,
        args.batches,
    )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
