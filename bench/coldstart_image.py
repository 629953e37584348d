"""Cold start of the image's CMD (uvicorn on the rendered entry.py -> ``app_from_frozen``) to the
first 200 on GET /health, against the plainest FastAPI app that builds the same agent graph.

    python bench/coldstart_image.py [--runs 7] [--examples doc_summarizer invoice_copilot]

Both run from the same folder (the agent's files beside spec.json, as in a build context) with
the same interpreter. The machine is shared and noisy, so it reports best-of-N and median of:
wall time and CPU time (user+sys from /proc, 10 ms ticks) of the uvicorn server at its first 200,
and the CPU time (getrusage, us) of the same start-up driven through ASGI without the server loop
(``asgi_cpu``: the precise one). Noise only ever adds; CPU time is what start-up really costs. Langfuse is switched off in the spec (no keys,
no network): what is measured is the runtime's own start-up.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import build_request, wait_until_up  # noqa: E402
from bench.servers import cpu_seconds, free_port  # noqa: E402

ENTRY = (
    "import os\nfrom pathlib import Path\nfrom agentdock.runtime.app import app_from_frozen\n"
    "SPEC_PATH = os.environ.get('AGENTDOCK_SPEC') or str(Path(__file__).resolve().parent / 'spec.json')\n"
    "app = app_from_frozen(SPEC_PATH)\n"
)
BARE = (
    "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path(__file__).resolve().parent))\n"
    "from fastapi import FastAPI\nfrom {module} import {function}\n"
    "graph = {function}()\napp = FastAPI()\n\n"
    "@app.get('/health')\nasync def health():\n    return {{'status': 'ok'}}\n"
)

# The same start-up without the server loop: import uvicorn (both pay it), import the module, run
# the app's lifespan and one GET /health through ASGI, then print the process's CPU time
# (getrusage, microsecond resolution; /proc's is 10 ms) at that first 200.
DRIVER = """
import asyncio, importlib, resource, sys
sys.path.insert(0, ".")
import uvicorn  # noqa: F401
app = importlib.import_module(sys.argv[1]).app
async def main():
    up, out = asyncio.Event(), []
    async def lrecv():
        if not out:
            out.append(0)
            return {"type": "lifespan.startup"}
        await asyncio.Event().wait()
    async def lsend(message):
        up.set()
    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, lrecv, lsend))
    await up.wait()
    async def recv():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        if message["type"] == "http.response.start":
            out.append(message["status"])
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/health", "raw_path": b"/health", "query_string": b"",
             "root_path": "", "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80), "state": {}}
    await app(scope, recv, send)
    return out[-1], task
status, _task = asyncio.run(main())
usage = resource.getrusage(resource.RUSAGE_SELF)
print(status, (usage.ru_utime + usage.ru_stime) * 1000, flush=True)
"""


def prepare(example: str, folder: Path) -> None:
    """The agent's files, spec.json (``${VAR}`` kept, Langfuse off), entry.py and bare_entry.py."""
    from agentdock.spec import load_dockfile

    source = ROOT / "examples" / example
    for item in source.iterdir():
        if item.suffix == ".py":
            shutil.copy(item, folder / item.name)
    raw = load_dockfile(source / "Dockfile.yaml", allow_unresolved=True, check_imports=False).raw
    raw.get("observability", {}).pop("langfuse", None)
    (folder / "spec.json").write_text(json.dumps(raw), encoding="utf-8")
    (folder / "entry.py").write_text(ENTRY)
    module, function = raw["agent"]["entrypoint"].split(":")
    (folder / "bare_entry.py").write_text(BARE.format(module=module, function=function))


def time_to_200(module: str, folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) from exec of the server to its first 200 on /health."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", f"{module}:app", "--host", "127.0.0.1", "--port", str(port)]
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        probe = build_request("GET", "/health", None, {})
        wall = (asyncio.run(wait_until_up(port, probe, poll_s=0.002)) - started) * 1000.0
        return wall, cpu_seconds(proc.pid) * 1000.0
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
        if proc.returncode not in (0, -15) and err:
            print(err.decode()[-2000:], file=sys.stderr)


def driver_cpu(module: str, folder: Path, env: dict[str, str]) -> float:
    """CPU ms of the process at its first 200 on /health (see DRIVER)."""
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, module],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    status, cpu = proc.stdout.split()[-2:] if proc.returncode == 0 else ("?", "nan")
    if status != "200":
        raise RuntimeError(f"{module}: no 200 on /health: {proc.stderr[-2000:]}")
    return float(cpu)


def measure(example: str, runs: int) -> dict[str, Any]:
    from agentdock.security.apikeys import generate_api_key

    with tempfile.TemporaryDirectory(prefix="agentdock-bench-cold-") as tmp:
        folder = Path(tmp)
        prepare(example, folder)
        key = generate_api_key(pepper="")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDOCK_", "LANGFUSE_"))}
        env.update(
            {
                "AGENTDOCK_BOOTSTRAP_KEY_HASH": f"{key.key_id}:developer:{key.key_hash}",
                "AGENTDOCK_FAKE_MODEL": "1",
                "JWT_SECRET": "j" * 40,
                "OPENAI_API_KEY": "sk-bench-not-used",
                "PYTHONPATH": str(ROOT),  # this checkout's agentdock, whatever the venv has
            }
        )
        ours: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        ours_cpu: list[float] = []
        bare_cpu: list[float] = []
        for _ in range(runs):  # interleaved, so drifting load hits both alike
            ours.append(time_to_200("entry", folder, env))
            bare.append(time_to_200("bare_entry", folder, env))
            ours_cpu.append(driver_cpu("entry", folder, env))
            bare_cpu.append(driver_cpu("bare_entry", folder, env))
    out: dict[str, Any] = {"example": example, "runs": runs}
    for name, values in (("agentdock", ours), ("bare_fastapi", bare)):
        out[f"{name}_wall_best_ms"] = round(min(w for w, _ in values), 1)
        out[f"{name}_wall_median_ms"] = round(statistics.median(w for w, _ in values), 1)
        out[f"{name}_cpu_best_ms"] = round(min(c for _, c in values), 1)
        out[f"{name}_cpu_median_ms"] = round(statistics.median(c for _, c in values), 1)
    for name, cpus in (("agentdock", ours_cpu), ("bare_fastapi", bare_cpu)):
        out[f"{name}_asgi_cpu_best_ms"] = round(min(cpus), 1)
        out[f"{name}_asgi_cpu_median_ms"] = round(statistics.median(cpus), 1)
    out["added_asgi_cpu_best_ms"] = round(
        out["agentdock_asgi_cpu_best_ms"] - out["bare_fastapi_asgi_cpu_best_ms"], 1
    )
    out["added_asgi_cpu_median_ms"] = round(
        out["agentdock_asgi_cpu_median_ms"] - out["bare_fastapi_asgi_cpu_median_ms"], 1
    )
    out["added_wall_best_ms"] = round(out["agentdock_wall_best_ms"] - out["bare_fastapi_wall_best_ms"], 1)
    out["added_cpu_best_ms"] = round(out["agentdock_cpu_best_ms"] - out["bare_fastapi_cpu_best_ms"], 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--examples", nargs="+", default=["doc_summarizer", "invoice_copilot"])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "coldstart_image.json"))
    args = parser.parse_args()
    results = [measure(example, args.runs) for example in args.examples]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
