"""Server-process CPU per request of ``agentdock serve`` vs the bare route (``bench.serve``'s pair).

    python -m bench.serve_cpu [--concurrency 32] [--batch 600] [--rounds 10] [--tree DIR ...]
    python -m bench.serve_cpu --callgrind serve|bare [--concurrency 32] [--requests 192] [--tree DIR]

``bench.serve`` reports req/s and CPU over short bursts; on the shared machine both swing by
+-10 %. This measures the servers themselves: user and system CPU of the server process (all
threads, ``/proc/<pid>/stat``) and its context switches, over fixed batches of requests from this
process, the servers loaded in alternating order, median per batch. ``--tree DIR`` adds an
``agentdock serve`` run from another checkout (``git archive COMMIT | tar -x -C DIR``): before vs
after on the same load. ``--in-memory-limiter`` drops ``AGENTDOCK_SHARED_RATE_LIMIT``.

``--callgrind`` runs one server under ``valgrind --tool=callgrind --instr-atstart=no``: 60
warm-up requests uninstrumented, then SIGUSR1 switches instrumentation on (a callgrind client
request through a 2-line C shim built with ``cc``; needs valgrind's headers) for ``--requests``
requests, SIGUSR2 dumps: instructions per request, all threads, ``PYTHONHASHSEED=0``. Kernel
time is not counted (the request log's ``write``, thread wake-ups).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.loadgen import build_request, run_load, wait_until_up
from bench.serve import DOCKFILE
from bench.servers import ROOT, free_port
from bench.tools_graph import INPUT

SHIM = """#include <valgrind/callgrind.h>
void start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void stop(void) { CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION; }
"""


def launch(kind: str, args: list[str]) -> None:
    """Inside the server process: signal handlers for the callgrind shim, then the server."""
    shim = os.environ.get("BENCH_CALLGRIND_SHIM")
    if shim:
        import ctypes

        lib = ctypes.CDLL(shim)
        signal.signal(signal.SIGUSR1, lambda *_: lib.start())
        signal.signal(signal.SIGUSR2, lambda *_: lib.stop())
    if kind == "serve":
        from agentdock.cli.main import app

        sys.argv = ["agentdock", "serve", *args]
        app()
    else:
        import uvicorn

        sys.argv = ["uvicorn", *args]
        uvicorn.main()


def start(
    kind: str, folder: Path, env: dict[str, str], prefix: list[str]
) -> tuple[subprocess.Popen[bytes], int, bytes]:
    port = free_port()
    # by path: a --tree checkout may predate this module
    me = [sys.executable, str(Path(__file__).resolve()), "--launch", kind, "--"]
    log = folder / f"server-{port}.log"
    with log.open("wb") as out:
        if kind == "bare":
            args = ["bench.serve_bare:app", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
            args += ["--log-level", "warning", "--loop", "auto", "--http", "auto"]
            proc = subprocess.Popen(
                prefix + me + args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL
            )
            return proc, port, build_request("POST", "/invoke", INPUT, {})
        args = [str(folder / "Dockfile.yaml"), "--port", str(port), "--json"]
        proc = subprocess.Popen(
            prefix + me + args, cwd=folder, env=env, stdout=out, stderr=subprocess.DEVNULL
        )
    deadline = time.monotonic() + 600
    while True:
        text = log.read_text(encoding="utf-8", errors="replace")
        end = text.find("\n}\n")
        if end >= 0:
            key = json.loads(text[: end + 2])["dev_api_key"]
            return proc, port, build_request("POST", "/invoke", INPUT, {"x-api-key": key})
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"agentdock serve did not start: {text[-2000:]}")
        time.sleep(0.2)


def proc_counters(pid: int) -> tuple[int, int, int, int]:
    """User and system clock ticks, voluntary and involuntary context switches (all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    voluntary = involuntary = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in Path(f"/proc/{pid}/task/{task}/status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    voluntary += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    involuntary += int(line.split()[1])
        except OSError:  # a thread that ended meanwhile
            pass
    return int(fields[11]), int(fields[12]), voluntary, involuntary


async def up(port: int, request: bytes) -> None:
    for _ in range(600):
        try:
            await wait_until_up(port, request)
            return
        except Exception:
            await asyncio.sleep(1)
    raise TimeoutError("server not up")


def measure(args: argparse.Namespace, folder: Path, env: dict[str, str]) -> None:
    runs: dict[str, tuple[subprocess.Popen[bytes], int, bytes]] = {}
    try:
        runs["agentdock serve"] = start("serve", folder, env, [])
        for tree in args.tree:
            runs[f"agentdock serve ({tree})"] = start("serve", folder, {**env, "PYTHONPATH": tree}, [])
        runs["bare FastAPI route"] = start("bare", folder, env, [])
        for _proc, port, request in runs.values():
            asyncio.run(up(port, request))
            asyncio.run(run_load(port, request, requests=300, concurrency=args.concurrency))
        per: dict[str, list[float]] = {name: [] for name in runs}
        sums: dict[str, list[int]] = {name: [0, 0, 0, 0] for name in runs}
        tick = os.sysconf("SC_CLK_TCK")
        for i in range(args.rounds):
            order = list(runs.items()) if i % 2 == 0 else list(reversed(runs.items()))
            for name, (proc, port, request) in order:
                before = proc_counters(proc.pid)
                result = asyncio.run(
                    run_load(port, request, requests=args.batch, concurrency=args.concurrency)
                )
                after = proc_counters(proc.pid)
                if result.errors:
                    raise RuntimeError(f"{name}: {result.errors} errors")
                deltas = [b - a for a, b in zip(before, after, strict=True)]
                per[name].append((deltas[0] + deltas[1]) / tick / args.batch * 1e6)
                sums[name] = [s + d for s, d in zip(sums[name], deltas, strict=True)]
    finally:
        for proc, _port, _request in runs.values():
            proc.terminate()
            proc.wait(30)
    n = args.batch * args.rounds
    bare = statistics.median(per["bare FastAPI route"])
    print(f"concurrency {args.concurrency}, {args.rounds} x {args.batch} requests per server")
    print(f"{'':<34}{'CPU us/req':>11}{'user':>7}{'sys':>6}{'vol cs':>8}{'invol cs':>9}{'bare/this':>10}")
    for name, values in per.items():
        user, system, voluntary, involuntary = sums[name]
        median = statistics.median(values)
        print(
            f"{name:<34}{median:>11.0f}{user / tick / n * 1e6:>7.0f}{system / tick / n * 1e6:>6.0f}"
            f"{voluntary / n:>8.2f}{involuntary / n:>9.2f}{bare / median:>9.3f}x"
        )


def callgrind(args: argparse.Namespace, folder: Path, env: dict[str, str]) -> None:
    (folder / "shim.c").write_text(SHIM, encoding="utf-8")
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-o", str(folder / "shim.so"), str(folder / "shim.c")], check=True
    )
    out = folder / "callgrind.out"
    env = {**env, "PYTHONHASHSEED": "0", "BENCH_CALLGRIND_SHIM": str(folder / "shim.so")}
    if args.tree:
        env["PYTHONPATH"] = args.tree[0]
    prefix = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    proc, port, request = start(args.callgrind, folder, env, prefix)
    try:
        asyncio.run(up(port, request))
        asyncio.run(run_load(port, request, requests=60, concurrency=args.concurrency))
        proc.send_signal(signal.SIGUSR1)
        time.sleep(3)
        result = asyncio.run(run_load(port, request, requests=args.requests, concurrency=args.concurrency))
        proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 300
        while not list(folder.glob("callgrind.out.*")):
            if time.monotonic() > deadline:
                raise TimeoutError("callgrind wrote no dump")
            time.sleep(1)
        time.sleep(2)  # the dump is written, not only created
    finally:
        proc.terminate()
        proc.wait(120)
    if result.errors:
        raise RuntimeError(f"{result.errors} errors")
    dump = next(iter(folder.glob("callgrind.out.*")))
    for line in dump.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("summary:"):
            per_request = int(line.split()[1]) / args.requests
            print(
                f"{args.callgrind}: {per_request / 1e6:.3f} M instructions/request (concurrency {args.concurrency})"
            )
            return
    raise RuntimeError("callgrind wrote no summary")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batch", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--tree", action="append", default=[], help="another checkout's agentdock serve")
    parser.add_argument("--in-memory-limiter", action="store_true")
    parser.add_argument("--callgrind", choices=["serve", "bare"])
    parser.add_argument("--requests", type=int, default=192, help="requests counted by --callgrind")
    parser.add_argument("--launch", choices=["serve", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.launch:
        launch(args.launch, args.rest)
        return
    with tempfile.TemporaryDirectory(prefix="agentdock-bench-serve-cpu-") as tmp:
        folder = Path(tmp)
        shutil.copy(ROOT / "bench" / "tools_graph.py", folder / "bench_tools_graph.py")
        (folder / "Dockfile.yaml").write_text(DOCKFILE, encoding="utf-8")
        env: dict[str, Any] = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDOCK_")}
        env.update(
            AGENTDOCK_HOME=str(folder / "home"),
            AGENTDOCK_STORE=f"sqlite:///{folder / 'store.db'}",
            AGENTDOCK_FAKE_MODEL="1",
            PYTHONPATH=str(ROOT),
        )
        if not args.in_memory_limiter:
            env["AGENTDOCK_SHARED_RATE_LIMIT"] = "1"
        if args.callgrind:
            callgrind(args, folder, env)
        else:
            measure(args, folder, env)


if __name__ == "__main__":
    main()
