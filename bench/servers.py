"""Processes for the runtime benchmark: a build-context-like workspace, uvicorn servers, /proc CPU."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.loadgen import wait_until_up

ROOT = Path(__file__).resolve().parents[1]


def uvicorn_process(
    target: str, port: int, env: dict[str, str], *, factory: bool = False
) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    args += ["--no-access-log", "--log-level", "warning", "--loop", "auto", "--http", "auto"]
    if factory:
        args.append("--factory")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def workspace(spec: dict[str, Any]) -> Iterator[tuple[Path, dict[str, str], str]]:
    """A build-context-like folder (spec.json + the graph module) and the server environment."""
    from agentdock.security.apikeys import generate_api_key

    with tempfile.TemporaryDirectory(prefix="agentdock-bench-") as tmp:
        folder = Path(tmp)
        shutil.copy(ROOT / "bench" / "graph.py", folder / "bench_graph.py")
        (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        # The same with no redact patterns: a redacting token filter holds back a tail of text
        # (up to 256 chars for unbounded patterns), which would make TTFT measure the policy.
        no_redact = json.loads(json.dumps(spec))
        no_redact["policies"]["safety"]["redact_patterns"] = []
        (folder / "spec-noredact.json").write_text(json.dumps(no_redact), encoding="utf-8")
        key = generate_api_key(pepper="")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDOCK_")}
        env.update(
            {
                "AGENTDOCK_SPEC": str(folder / "spec.json"),
                "AGENTDOCK_BOOTSTRAP_KEY_HASH": f"{key.key_id}:developer:{key.key_hash}",
                "AGENTDOCK_FAKE_MODEL": "1",
                "PYTHONPATH": str(ROOT),
            }
        )
        yield folder, env, key.key


@contextmanager
def server(kind: str, env: dict[str, str], probe: bytes) -> Iterator[tuple[int, int]]:
    port = free_port()
    if kind in ("bare", "bare_adapter"):
        proc = uvicorn_process(f"bench.{kind}:app", port, env)
    else:
        proc = uvicorn_process("agentdock.runtime.app:app_from_frozen", port, env, factory=True)
    try:
        asyncio.run(wait_until_up(port, probe))
        yield port, proc.pid
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
        if proc.returncode not in (0, -15) and err:
            print(err.decode()[-2000:], file=sys.stderr)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), robust to a busy shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
