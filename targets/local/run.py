"""Run a build context as a local process exactly as its image would (``python -m uvicorn
entry:app``, cwd = the context, AGENTDOCK_SPEC set), gate it on /health, /ready and /schema, and
keep the front proxy on the stable port. Used by ``LocalTarget`` and ``preflight``.

The process uses this Python and its installed packages (the agent's dependencies come from the
current environment, not from the context's requirements.txt). Its environment is this one plus
the ``.env`` beside the Dockfile (lowest priority) and ``--env`` values (highest); none of it is
written to disk.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from agentdock.targets.local import process as P
from agentdock.targets.local.status import PROXY_MARKER, PROXY_MODULE

from agentdock.build.flavours import AGENT_DIR, HEALTH_PATH, SPEC_FILE, serve_argv
from agentdock.errors import DeployError, HealthGateFailed
from agentdock.settings import ENV_AGENT_VERSION, ENV_BOOTSTRAP_KEY_HASH, ENV_PORT, ENV_SPEC_PATH, ENV_STORE
from agentdock.spec.models import DEFAULT_ROLES


def dotenv_for(dockfile: str | None) -> dict[str, str]:
    """The ``.env`` beside the Dockfile (read at start time, never copied anywhere)."""
    if not dockfile:
        return {}
    from agentdock.spec import read_dotenv

    return read_dotenv(Path(dockfile).expanduser().resolve().parent / ".env")


def process_env(
    context: Path,
    *,
    store_url: str | None,
    version: int | None,
    port: int,
    dockfile: str | None,
    plain: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``plain`` is the Dockfile's ``deploy.env``: over the shell's environment, under ``extra``."""
    env = {**dotenv_for(dockfile), **os.environ, **(plain or {}), **(extra or {})}
    agent_dir = str(context / AGENT_DIR)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (agent_dir, env.get("PYTHONPATH", "")) if p)
    env[ENV_SPEC_PATH] = str(context / SPEC_FILE)
    env[ENV_PORT] = str(port)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the context stays byte-identical
    env["PYTHONUNBUFFERED"] = "1"
    if store_url:
        env[ENV_STORE] = store_url
    if version is not None:
        env[ENV_AGENT_VERSION] = str(version)
    return env


def gate_credentials(context: Path) -> tuple[dict[str, str], dict[str, str], bool]:
    """(env, headers, strict) for the gate's /schema call. When the function accepts API keys, a
    one-off bootstrap key (hash in the process env, plaintext only in this process's memory) lets
    the gate read /schema for real; otherwise a 401/403 still proves the route is mounted."""
    try:
        raw = json.loads((context / SPEC_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise DeployError(str(context), f"not a build context: {exc}") from exc
    auth = raw.get("auth") or {}
    if auth.get("public_docs") is True:
        return {}, {}, True
    accepts_keys = auth.get("mode") == "api_key" or (auth.get("api_keys") or {}).get("enabled") is True
    if not accepts_keys:
        return {}, {}, False
    roles = {
        r["name"]: r.get("permissions", [])
        for r in auth.get("roles") or []
        if isinstance(r, dict) and "name" in r
    }
    roles = roles or {k: list(v) for k, v in DEFAULT_ROLES.items()}
    readers = sorted((len(p), name) for name, p in roles.items() if "read_docs" in p)
    if not readers:
        return {}, {}, False
    from agentdock.security.apikeys import generate_api_key

    key = generate_api_key()
    return (
        {ENV_BOOTSTRAP_KEY_HASH: f"{key.key_id}:{readers[0][1]}:{key.key_hash}"},
        {"x-api-key": key.key},
        True,
    )


def start(context: Path, *, env: Mapping[str, str], log: Path, port: int | None = None) -> tuple[int, int]:
    """Start the context's server on ``port`` (a free one if None); returns (pid, port)."""
    port = port or P.free_port()
    argv = [sys.executable, *serve_argv(host="127.0.0.1", port=port)]
    pid = P.spawn(argv, cwd=context, env={**env, ENV_PORT: str(port)}, log_path=log)
    return pid, port


def server_marker(port: int) -> str:
    return f"--port {port}"


def _get(port: int, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    status, ctype, body = P.http_get(port, path, headers=headers)
    if "json" in ctype:
        try:
            return status, json.loads(body)
        except ValueError:
            pass
    return status, body.decode(errors="replace")[:300]


def gate(
    port: int,
    *,
    pid: int,
    log: Path,
    version: int | None,
    headers: Mapping[str, str],
    strict: bool,
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    """Wait for GET /health = 200 (the app finished startup: the agent is built), then check /ready
    and /schema. Raises HealthGateFailed with the cause (and the log tail when the process died)."""
    t0 = time.monotonic()
    while True:
        if not P.alive(pid):
            tail = P.log_tail(log, 12)
            raise HealthGateFailed(
                HEALTH_PATH, f"the process exited before it was healthy:\n{tail}", hint=f"full log: {log}"
            )
        try:
            status, health = _get(port, HEALTH_PATH)
            if status == 200:
                break
        except OSError:
            pass
        if time.monotonic() - t0 > timeout_s:
            raise HealthGateFailed(
                HEALTH_PATH, f"no 200 from {HEALTH_PATH} within {timeout_s:.0f}s", hint=f"see {log}"
            )
        time.sleep(0.05)
    ready_ms = int((time.monotonic() - t0) * 1000)
    reported = health.get("version") if isinstance(health, dict) else None
    if (
        version is not None
        and isinstance(reported, str)
        and re.fullmatch(r"\d+", reported)
        and int(reported) != version
    ):
        raise HealthGateFailed(HEALTH_PATH, f"port {port} answers as version {reported}, expected {version}")
    try:
        status, body = _get(port, "/ready")
        if status not in (200, 404):
            raise HealthGateFailed("/ready", f"the agent is not ready ({status}): {body}", hint=f"see {log}")
        status, body = _get(port, "/schema", headers)
    except OSError as exc:
        raise HealthGateFailed(
            HEALTH_PATH, f"the process stopped answering: {exc}", hint=f"see {log}"
        ) from exc
    if not (status == 200 or (not strict and status in (401, 403))):
        raise HealthGateFailed("/schema", f"GET /schema answered {status}: {body}", hint=f"see {log}")
    schema = "ok" if status == 200 else f"auth-required ({status})"
    return {"health": health, "schema": schema, "ready_ms": ready_ms, "port": port}


def start_gated(
    context: Path,
    *,
    env: Mapping[str, str],
    log: Path,
    version: int | None,
    timeout_s: float,
    tries: int = 3,
    on_start: Callable[[int, int], None] | None = None,
) -> tuple[int, int, dict[str, Any]]:
    """Start + gate, retrying on a fresh port when the one picked was taken meanwhile.
    ``on_start(pid, port)`` runs as soon as the process exists, BEFORE the gate: a deploy killed
    during the gate leaves a pid file behind, so ``destroy`` can stop the process."""
    cred_env, headers, strict = gate_credentials(context)
    for attempt in range(tries):
        pid, port = start(context, env={**env, **cred_env}, log=log)
        if on_start is not None:
            on_start(pid, port)
        try:
            return (
                pid,
                port,
                gate(
                    port,
                    pid=pid,
                    log=log,
                    version=version,
                    headers=headers,
                    strict=strict,
                    timeout_s=timeout_s,
                ),
            )
        except HealthGateFailed as exc:
            P.stop(pid)
            if "address already in use" in exc.cause.lower() and attempt + 1 < tries:
                continue
            raise
    raise AssertionError("unreachable")


def ensure_proxy(proxy_dir: Path, live_file: Path, port: int, *, timeout_s: float = 15.0) -> int:
    """The agent's front proxy runs on ``port`` (started, or restarted when the port changed).
    Returns its pid. Fails when another program holds the port."""
    pid = P.read_int(proxy_dir / "pid")
    running_port = P.read_int(proxy_dir / "port")
    if P.alive(pid, PROXY_MARKER) and running_port == port and P.port_open(port):
        assert pid is not None
        return pid
    P.stop(pid, marker=PROXY_MARKER)
    if not P.port_bindable(port):
        raise DeployError(
            f"deploy.local.port={port}",
            f"port {port} on 127.0.0.1 is in use by another program",
            hint="pass --port N or set deploy.local.port in the Dockfile",
        )
    log = proxy_dir / "proxy.log"
    argv = [sys.executable, "-m", PROXY_MODULE, "--port", str(port), "--live-file", str(live_file)]
    pid = P.spawn(argv, cwd=proxy_dir, env=dict(os.environ), log_path=log)
    deadline = time.monotonic() + timeout_s
    while not P.port_open(port):
        if not P.alive(pid) or time.monotonic() > deadline:
            P.stop(pid)
            raise DeployError(
                f"127.0.0.1:{port}",
                "the front proxy did not start:\n" + P.log_tail(log, 8),
                hint=f"see {log}",
            )
        time.sleep(0.02)
    P.write_atomic(proxy_dir / "pid", str(pid))
    P.write_atomic(proxy_dir / "port", str(port))
    return pid


def stop_proxy(proxy_dir: Path) -> bool:
    return P.stop(P.read_int(proxy_dir / "pid"), marker=PROXY_MARKER)
