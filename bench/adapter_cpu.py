"""The LangGraph adapter's cost on the ``bench.serve`` graph, in process: CPU per request.

    python -m bench.adapter_cpu [--batches 7] [--per-batch 300] [--only raw,adapter,...]
    python -m bench.adapter_cpu --callgrind adapter [--requests 100]   # instructions per request

The agent + ToolNode + answer graph of ``tools_graph.py`` (the one ``bench.serve`` loads), run
sequentially, no sockets: ``graph.ainvoke`` alone; the same graph through the adapter's
``invoke`` and ``stream`` (tool gate on, allowing); the bare FastAPI route of ``serve_bare.py``
and ``agentdock serve``'s app (the ``bench.serve`` Dockfile, everything on, in-memory rate
limiter) through ASGI. CPU time (``time.process_time``) per request, median of the batches,
variants interleaved batch by batch: steadier than wall clock on a shared machine, but still
+-10 % under load. ``--callgrind VARIANT`` re-runs itself under ``valgrind --tool=callgrind``
with instrumentation off until 50 warm-up requests are done, on for ``--requests`` requests
(a callgrind client request through ctypes: a 2-line C shim built with ``cc``, which needs
valgrind's headers), and prints the instructions per request: all threads, no kernel time,
repeatable to ~0.03 % (``PYTHONHASHSEED=0``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

from bench.servers import ROOT
from bench.stack import _call
from bench.tools_graph import INPUT, build_graph

Run = Callable[[], Awaitable[Any]]


def variants(folder: Path) -> dict[str, Run]:
    from agentdock.adapters import get_adapter
    from agentdock.adapters.base import RunContext

    from agentdock.policy.engine import Policy

    policy = Policy(allowed_tools=["lookup"])  # the gate as the runtime wires it: allows lookup
    check = getattr(policy, "check_tool", None)  # absent before it existed (to measure "before")
    twin: dict[str, Any] = {"check_tool": check} if check is not None else {}

    def context() -> RunContext:
        return RunContext("bench", on_tool_start=policy.on_tool_start, **twin)

    graph = build_graph()
    adapter = get_adapter("langgraph")
    loaded = adapter.prepare(build_graph(), {})

    async def raw() -> Any:
        state = await graph.ainvoke(dict(INPUT))
        assert state["summary"]

    async def invoke() -> Any:
        out = await adapter.invoke(loaded, dict(INPUT), context())
        assert out["summary"]

    async def stream() -> Any:
        events = [e async for e in adapter.stream(loaded, dict(INPUT), context())]
        assert events[-1].type == "end"

    body = json.dumps(INPUT).encode()
    common = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    from bench.serve_bare import app as bare

    async def bare_route() -> Any:
        assert await _call(bare, common, body) == 200

    app, key = _agentdock_app(folder)
    headers = [(b"x-api-key", key.encode()), *common]

    async def agentdock() -> Any:
        assert await _call(app, headers, body) == 200

    return {
        "raw": raw,
        "adapter": invoke,
        "adapter_stream": stream,
        "bare_route": bare_route,
        "agentdock": agentdock,
    }


def _agentdock_app(folder: Path) -> tuple[Any, str]:
    """``agentdock serve``'s Dockfile, frozen, loaded as an image would; the bootstrap key."""
    from agentdock.security.apikeys import generate_api_key
    from bench.serve import DOCKFILE

    shutil.copy(ROOT / "bench" / "tools_graph.py", folder / "bench_tools_graph.py")
    spec = yaml.safe_load(DOCKFILE)
    spec["auth"]["rate_limits"] = {"developer": "100000000/m"}
    (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    key = generate_api_key(pepper="")
    for name in [n for n in os.environ if n.startswith("AGENTDOCK_")]:
        del os.environ[name]
    os.environ.update(
        AGENTDOCK_BOOTSTRAP_KEY_HASH=f"{key.key_id}:developer:{key.key_hash}", AGENTDOCK_FAKE_MODEL="1"
    )
    from agentdock.runtime.app import app_from_frozen

    app = app_from_frozen(folder / "spec.json")
    app.state.runtime.host.load()
    app.state.runtime.host.log.sink = lambda line: None  # the line is still built, not written
    return app, key.key


def measure(runs: dict[str, Run], batches: int, per_batch: int) -> dict[str, float]:
    async def go() -> dict[str, list[float]]:
        for run in runs.values():
            for _ in range(100):
                await run()
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(batches):
            for name, run in runs.items():
                started = time.process_time()
                for _ in range(per_batch):
                    await run()
                samples[name].append((time.process_time() - started) / per_batch * 1e6)
        return samples

    return {name: round(statistics.median(v), 1) for name, v in asyncio.run(go()).items()}


SHIM = """#include <valgrind/callgrind.h>
void start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void stop(void) { CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION; }
"""


def _instrumented(run: Run, requests: int, shim: Path) -> None:
    """Inside valgrind: warm up, then ``requests`` requests with instrumentation on."""
    import ctypes

    lib = ctypes.CDLL(str(shim))

    async def go() -> None:
        for _ in range(50):
            await run()
        lib.start()
        for _ in range(requests):
            await run()
        lib.stop()

    asyncio.run(go())


def callgrind(variant: str, requests: int) -> int:
    """Instructions per request of ``variant`` (this module re-run under callgrind)."""
    with tempfile.TemporaryDirectory(prefix="agentdock-bench-callgrind-") as tmp:
        folder = Path(tmp)
        (folder / "shim.c").write_text(SHIM, encoding="utf-8")
        subprocess.run(
            ["cc", "-shared", "-fPIC", "-o", str(folder / "shim.so"), str(folder / "shim.c")], check=True
        )
        out = folder / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
            sys.executable, "-m", "bench.adapter_cpu", "--inside", variant,
            "--requests", str(requests), "--shim", str(folder / "shim.so"),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(command, check=True, env=env, cwd=ROOT, capture_output=True)
        dump = next(p for p in folder.glob("callgrind.out.*"))  # the CALLGRIND_DUMP_STATS part
        for line in dump.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("summary:"):
                return int(line.split()[1]) // requests
    raise RuntimeError("callgrind wrote no summary")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--per-batch", type=int, default=300)
    parser.add_argument("--only", default="", help="comma-separated variant names")
    parser.add_argument("--callgrind", metavar="VARIANT", help="instructions per request of one variant")
    parser.add_argument("--requests", type=int, default=100, help="requests counted by --callgrind")
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the run under valgrind
    parser.add_argument("--shim", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.callgrind:
        print(f"{args.callgrind}: {callgrind(args.callgrind, args.requests)} instructions/request")
        return
    if args.inside:
        with tempfile.TemporaryDirectory(prefix="agentdock-bench-adapter-") as tmp:
            _instrumented(variants(Path(tmp))[args.inside], args.requests, args.shim)
        return
    with tempfile.TemporaryDirectory(prefix="agentdock-bench-adapter-") as tmp:
        runs = variants(Path(tmp))
        if args.only:
            runs = {k: v for k, v in runs.items() if k in args.only.split(",")}
        result = measure(runs, args.batches, args.per_batch)
    base = result.get("raw")
    for name, us in result.items():
        extra = f"  (+{us - base:.1f} vs raw)" if base is not None and name != "raw" else ""
        print(f"{name:<16}{us:>9.1f} us CPU/request{extra}")


if __name__ == "__main__":
    main()
