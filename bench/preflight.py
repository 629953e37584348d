"""Preflight and image-runtime measures for the default example (examples/doc_summarizer).

    python bench/preflight.py [--runs 5] [--flavour lambda-stream]

* preflight wall time, cold (empty AGENTDOCK_CACHE: wheel build, lock, environment install; uv's
  own download cache is NOT emptied, so downloads are not counted) and warm (everything cached);
* build-context size, installed size of the locked runtime environment (target <= 150 MB);
* idle RSS of the function process after start (target <= 120 MB);
* cold start of the image's CMD to the first 200 on /health, against a bare FastAPI app serving
  the same graph, both from the same locked environment in the same sandbox (added <= 100 ms).

Writes bench/results/preflight.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentdock.build import build_context  # noqa: E402
from agentdock.preflight import preflight  # noqa: E402
from agentdock.preflight import sandbox as S  # noqa: E402
from agentdock.preflight.auth import Credentials  # noqa: E402
from agentdock.preflight.envs import env_size, locked_env, read_manifest  # noqa: E402
from agentdock.preflight.runner import free_port, function_env  # noqa: E402
from agentdock.preflight.transports import HttpTransport  # noqa: E402
from agentdock.security.apikeys import generate_api_key  # noqa: E402

DOCKFILE = ROOT / "examples" / "doc_summarizer" / "Dockfile.yaml"

# The same graph as the agent's, behind the plainest FastAPI app (no auth, policy, metrics).
BARE = """
import sys
sys.path.insert(0, "agent")
from fastapi import FastAPI
from agent import build_graph
graph = build_graph()
app = FastAPI()

@app.get("/health")
async def health():
    return {"status": "ok"}
"""


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _time_to_200(box: S.Sandbox, command: list[str], env: dict[str, str], port: int, log: Path) -> float:
    t0 = time.monotonic()
    proc = S.spawn(box, command, env, log)
    try:
        HttpTransport(port).wait_ready("/health", {200}, lambda: proc.poll() is None, 60)
        return (time.monotonic() - t0) * 1000
    finally:
        S.stop(proc)


def _build(flavour: str, out: Path) -> tuple[Path, float]:
    t0 = time.monotonic()
    ctx = Path(build_context(DOCKFILE, flavour=flavour, out_dir=out).context_dir)
    return ctx, time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--flavour", default="lambda-stream")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="agentdock-bench-preflight-"))
    os.environ["AGENTDOCK_HOME"] = str(work / "home")
    os.environ["AGENTDOCK_CACHE"] = str(work / "cache")  # cold: nothing built, locked or installed
    try:
        ctx, cold_build = _build(args.flavour, work / "ctx")
        t0 = time.monotonic()
        cold = preflight(ctx, timeout_s=120)
        cold_s = cold_build + time.monotonic() - t0
        ctx, warm_build = _build(args.flavour, work / "ctx2")
        t0 = time.monotonic()
        warm = preflight(ctx, timeout_s=120)
        warm_s = warm_build + time.monotonic() - t0
        venv, _ = locked_env(ctx, read_manifest(ctx))
        box = S.prepare(ctx, venv)
        bare_ctx = work / "bare"
        shutil.copytree(ctx, bare_ctx)
        (bare_ctx / "bare_entry.py").write_text(BARE)
        bare_box = S.prepare(bare_ctx, venv)
        manifest = read_manifest(ctx)
        key = generate_api_key()
        creds = Credentials(env={"AGENTDOCK_BOOTSTRAP_KEY_HASH": f"{key.key_id}:admin:{key.key_hash}"})
        cmd = [
            "sh",
            "-c",
            "exec python -m uvicorn entry:app --host 127.0.0.1 --port $PORT --no-server-header",
        ]
        bare_cmd = ["sh", "-c", "exec python -m uvicorn bare_entry:app --host 127.0.0.1 --port $PORT"]
        ours, bare = [], []
        for i in range(args.runs):
            port = free_port()
            env = function_env(box, manifest, {}, creds, port)
            ours.append(_time_to_200(box, cmd, env, port, work / f"ours{i}.log"))
            port = free_port()
            env = function_env(bare_box, manifest, {}, creds, port)
            bare.append(_time_to_200(bare_box, bare_cmd, env, port, work / f"bare{i}.log"))
        result = {
            "flavour": args.flavour,
            "isolation": box.applied + [f"SKIPPED: {s}" for s in box.skipped],
            "preflight_cold_s": round(cold_s, 2),
            "preflight_warm_s": round(warm_s, 2),
            "context_bytes": _size(ctx),
            "env_installed_mb": round(env_size(venv) / 1e6, 1),
            "idle_rss_mb": warm["rss_mb"],
            "cold_start_ms": {
                "agentdock_median": round(statistics.median(ours), 1),
                "bare_fastapi_median": round(statistics.median(bare), 1),
                "added_median": round(statistics.median(ours) - statistics.median(bare), 1),
                "agentdock_runs": [round(x) for x in ours],
                "bare_runs": [round(x) for x in bare],
            },
            "targets": {"env_installed_mb": 150, "idle_rss_mb": 120, "added_cold_start_ms": 100},
            "cold_env": cold["env"],
        }
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "preflight.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    finally:
        if os.environ.get("KEEP") is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(work)


if __name__ == "__main__":
    main()
