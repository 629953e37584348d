"""``preflight(context)``: run a build context as its image runs on the target and check it.

1. the context is checked (manifest, lock, the agentdock wheel and its sha256);
2. its locked requirements are installed into a cached environment (``envs.py``);
3. the image's CMD starts from the context with only the Dockerfile's ENV, the platform's own
   variables and the target's environment, in the sandbox (``sandbox.py``);
4. it is reached the way the platform reaches it (``transports.py``) and must answer
   ``/health``, ``/schema``, an authenticated ``/invoke``, when exposed a ``/stream``, and for a
   LangGraph graph the LangGraph Server API (``langgraph.py``: assistants; threads with memory
   across two runs and a run stream when the Dockfile keeps threads).

Every failure raises ``PreflightFailed`` naming the check, with a command that reproduces it.
``running()`` starts the function the same way and keeps it up for a caller of its own (tests
point real clients at it); ``preflight()`` is ``running()`` plus the checks.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdock.build import flavours as F
from agentdock.build.cache import cache_dir
from agentdock.preflight import sandbox as S
from agentdock.preflight.auth import Credentials, credentials
from agentdock.preflight.checks import fail, run_checks
from agentdock.preflight.dockerfile import image_config
from agentdock.preflight.envs import locked_env, read_manifest
from agentdock.preflight.transports import DRIVER, HttpTransport, LambdaTransport, Transport, parse_statuses


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def platform_env(flavour: str, agent: str, target_env: Mapping[str, str], ctx: str) -> dict[str, str]:
    """What the platform itself sets in every function's environment (values that matter here)."""
    env = {"LANG": "C.UTF-8"}
    if flavour.startswith("lambda"):
        region = target_env.get("AWS_REGION") or target_env.get("AWS_DEFAULT_REGION") or "us-east-1"
        env |= {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": agent,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_EXECUTION_ENV": "AWS_Lambda_Image",
            "LAMBDA_TASK_ROOT": ctx,
            "TZ": ":UTC",
        }
    else:
        env |= {"K_SERVICE": agent, "K_REVISION": f"{agent}-preflight", "K_CONFIGURATION": agent}
    return env


def function_env(
    box: S.Sandbox, manifest: dict[str, Any], target_env: Mapping[str, str], creds: Credentials, port: int
) -> dict[str, str]:
    root = str(manifest["platform"]["root"])
    cfg = image_config(box.context)
    ctx = box.ctx_path
    env = {"PATH": f"{box.env_path}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    env |= {k: v.replace(root, ctx) for k, v in cfg.env.items()}
    env |= platform_env(manifest["flavour"], manifest["agent"], target_env, ctx)
    env |= dict(target_env) | creds.env
    env["PORT"] = str(port)  # Knative/Cloud Run inject PORT; LWA reads AWS_LWA_PORT
    if "AWS_LWA_PORT" in env:
        env["AWS_LWA_PORT"] = str(port)
    return env


@dataclass
class Running:
    """A function started from a build context by ``running()``, as the platform runs it."""

    context: Path
    flavour: str
    transport: Transport
    creds: Credentials
    raw: dict[str, Any]  # the frozen spec
    env: dict[str, str]  # the function's environment (secret values: keep it in memory only)
    repro: str  # the shell line that starts it again
    log_file: Path
    proc: subprocess.Popen[bytes]
    box: S.Sandbox
    env_info: dict[str, Any] = field(default_factory=dict)
    ready_s: float = 0.0

    @property
    def url(self) -> str | None:
        """``http://127.0.0.1:PORT`` for the HTTP flavours (Lambda buffered has no port: events)."""
        return (
            f"http://127.0.0.1:{self.transport.port}" if isinstance(self.transport, HttpTransport) else None
        )

    def log_lines(self) -> list[str]:
        return self.log_file.read_text(errors="replace").splitlines()


@contextmanager
def running(
    context: Path,
    *,
    target_env: Mapping[str, str] | None = None,
    secret_names: set[str] | frozenset[str] = frozenset(),
    timeout_s: float = 60.0,
) -> Iterator[Running]:
    """Start ``context`` as its image would start on the target and yield it once ready; stopped
    (and its preflight credentials revoked) on exit. Raises ``PreflightFailed`` ("start") when it
    does not become ready. The log file is removed on a clean exit only."""
    context = Path(context).resolve()
    target_env = dict(target_env or {})
    t0 = time.monotonic()
    manifest = read_manifest(context)
    venv, cached = locked_env(context, manifest)
    t_env = time.monotonic() - t0
    box = S.prepare(context, venv)
    raw = json.loads((context / F.SPEC_FILE).read_text(encoding="utf-8"))
    creds = credentials(raw, target_env)
    port = free_port()
    env = function_env(box, manifest, target_env, creds, port)
    flavour = manifest["flavour"]
    cfg = image_config(context)
    command = ["python", "-c", DRIVER, cfg.cmd[0]] if flavour == F.LAMBDA_BUFFERED else cfg.cmd
    plain = S.Sandbox(box.context, box.venv, skipped=["repro"])
    repro = S.reproduce(
        plain,
        command,
        function_env(plain, manifest, target_env, creds, port),
        set(secret_names) | set(target_env) | set(creds.env),
    )
    # Kept only when a check fails (the error names it), next to the other build caches.
    fd, name = tempfile.mkstemp(
        prefix=f"{manifest['agent']}-", suffix=".log", dir=cache_dir("preflight-logs")
    )
    os.close(fd)
    log_file = Path(name)
    proc = S.spawn(
        box, command, env, log_file, stdin=subprocess.PIPE if flavour == F.LAMBDA_BUFFERED else None
    )
    transport: Transport
    try:
        t_start = time.monotonic()
        try:
            if flavour == F.LAMBDA_BUFFERED:
                transport = LambdaTransport(proc)
                transport.wait_ready(timeout_s)
            else:
                transport = HttpTransport(port)
                path = env.get("AWS_LWA_READINESS_CHECK_PATH", F.HEALTH_PATH)
                healthy = parse_statuses(env.get("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "100-499"))
                transport.wait_ready(path, healthy, lambda: proc.poll() is None, timeout_s)
        except (RuntimeError, TimeoutError) as exc:
            S.stop(proc)
            lines = log_file.read_text(errors="replace").splitlines()
            if flavour == F.LAMBDA_BUFFERED and proc.stdout:
                lines += [b.decode(errors="replace").rstrip() for b in proc.stdout.readlines()]
            raise fail("start", f"the image's CMD did not become ready: {exc}", repro, lines) from exc
        yield Running(
            context,
            flavour,
            transport,
            creds,
            raw,
            env,
            repro,
            log_file,
            proc,
            box,
            {"path": str(venv), "cached": cached, "seconds": round(t_env, 2)},
            time.monotonic() - t_start,
        )
    finally:
        S.stop(proc)
        creds.cleanup()
    log_file.unlink(missing_ok=True)  # kept only when something failed (the error names it)


def preflight(
    context: Path,
    *,
    target_env: Mapping[str, str] | None = None,
    secret_names: set[str] | frozenset[str] = frozenset(),
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    """Run ``context`` as its image would run on the target; see the module docstring."""
    with running(context, target_env=target_env, secret_names=secret_names, timeout_s=timeout_s) as run:
        try:
            result = run_checks(run.transport, run.creds, run.raw, run.env, run.repro)
        except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
            raise fail("request", f"{type(exc).__name__}: {exc}", run.repro, run.log_lines()) from exc
        rss_kb = _rss_kb(run.proc.pid)
    return {
        "flavour": run.flavour,
        "context": str(run.context),
        "env": run.env_info,
        "ready_ms": int(run.ready_s * 1000),
        "rss_mb": round(rss_kb / 1024, 1) if rss_kb else None,
        "isolation": {"applied": run.box.applied, "skipped": run.box.skipped},
        **result,
    }


def _rss_kb(pid: int) -> int | None:
    """Resident memory of the function process: the deepest descendant of ``pid`` (the command
    runs under unshare/sh/setpriv, which exec into it)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        while children:
            pid = int(children[0])
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None
