"""Supervision primitives with real processes (no agent): detached start, liveness by marker,
stop; logs -f; the gate's credentials; the health gate's failure causes."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.local import LocalTarget
from agentdock.targets.local.process import alive, free_port, spawn, stop
from agentdock.targets.local.run import gate, gate_credentials

from agentdock.errors import DeployError, HealthGateFailed
from agentdock.store.base import MetadataStore

pytestmark = pytest.mark.integration

SLEEPER = [sys.executable, "-c", "import time, sys; print('ready', flush=True); time.sleep(60)"]


def test_spawn_is_detached_and_stop_reaps(tmp_path: Path) -> None:
    import os

    log = tmp_path / "p.log"
    pid = spawn(SLEEPER, cwd=tmp_path, env=dict(os.environ), log_path=log)
    try:
        deadline = time.monotonic() + 10
        while "ready" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "ready" in log.read_text()  # stdout goes to the log file
        assert alive(pid) and alive(pid, "time.sleep(60)")
        assert not alive(pid, "uvicorn")  # a recycled pid running something else is not ours
        assert os.getpgid(pid) == pid and os.getsid(pid) == pid  # own session: Ctrl-C in the CLI misses it
    finally:
        assert stop(pid, grace_s=2)
    assert not alive(pid)
    assert not stop(pid)


def test_gate_reports_a_process_that_died(tmp_path: Path) -> None:
    import os

    log = tmp_path / "crash.log"
    pid = spawn(
        [sys.executable, "-c", "raise SystemExit('boom: cannot load the agent')"],
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=log,
    )
    with pytest.raises(HealthGateFailed, match="boom: cannot load the agent"):
        gate(free_port(), pid=pid, log=log, version=1, headers={}, strict=True, timeout_s=10)


def test_gate_times_out_when_nothing_answers(tmp_path: Path) -> None:
    import os

    pid = spawn(SLEEPER, cwd=tmp_path, env=dict(os.environ), log_path=tmp_path / "s.log")
    try:
        with pytest.raises(HealthGateFailed, match=r"no 200 from /health within 1s"):
            gate(
                free_port(), pid=pid, log=tmp_path / "s.log", version=1, headers={}, strict=True, timeout_s=1
            )
    finally:
        stop(pid)


@pytest.mark.parametrize(
    ("auth", "expect"),
    [
        ({"mode": "api_key", "api_keys": {"enabled": True}}, ("viewer", True)),
        ({"mode": "jwt", "jwt": {"secret_key": "${S}"}}, (None, False)),
        ({"mode": "jwt", "public_docs": True}, (None, True)),
        (
            {
                "mode": "api_key",
                "roles": [
                    {"name": "ops", "permissions": ["read_docs", "invoke"]},
                    {"name": "caller", "permissions": ["invoke"]},
                ],
            },
            ("ops", True),
        ),
    ],
)
def test_gate_credentials(tmp_path: Path, auth: dict[str, Any], expect: tuple[str | None, bool]) -> None:
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "agentdock.spec.json").write_text(json.dumps({"auth": auth}))
    env, headers, strict = gate_credentials(tmp_path)
    role, want_strict = expect
    assert strict is want_strict
    if role is None:
        assert env == {} and headers == {}
    else:
        key_id, got_role, key_hash = env["AGENTDOCK_BOOTSTRAP_KEY_HASH"].split(":", 2)
        assert (
            got_role == role
            and headers["x-api-key"].startswith(f"agd_{key_id}_")
            and key_hash.startswith("sha256:")
        )


def test_logs_follow_yields_new_lines(store: MetadataStore, home: Path) -> None:
    target = LocalTarget(store=store, home=home / "local")
    log = home / "local" / "demo" / "3" / "server.log"
    log.parent.mkdir(parents=True)
    log.write_text("old 1\nold 2\n")
    stream = target.logs("demo", version=3, follow=True, lines=1, poll_s=0.02)
    assert next(stream) == "old 2"

    def write() -> None:
        time.sleep(0.1)
        with open(log, "a") as fh:
            fh.write("new 1\nnew ")
            fh.flush()
            time.sleep(0.1)
            fh.write("2\n")

    threading.Thread(target=write).start()
    assert [next(stream), next(stream)] == ["new 1", "new 2"]
    with pytest.raises(DeployError, match="has no live version"):
        list(target.logs("demo"))


def test_destroy_stops_a_process_still_in_its_health_gate(local: Any, home: Path) -> None:
    """Issue 17: a deploy killed during its gate left a uvicorn without a pid file, and destroy
    deleted its folder while it ran. The pid is now recorded before the gate (pid.starting)."""
    import subprocess
    import sys

    target = local()
    vdir = target._dir("orphan_agent").version(1)
    vdir.root.mkdir(parents=True)
    # a stand-in for a uvicorn mid-gate: its command line carries the marker destroy looks for
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "uvicorn"], start_new_session=True
    )
    try:
        # wait for the exec: until then /proc shows the parent's command line, without the marker
        cmdline = Path(f"/proc/{proc.pid}/cmdline")
        deadline = time.monotonic() + 10
        while b"uvicorn" not in cmdline.read_bytes():
            assert time.monotonic() < deadline, "the stand-in process did not start"
            time.sleep(0.01)
        vdir.starting_pid_file.write_text(str(proc.pid))
        target.destroy("orphan_agent")
        assert proc.wait(timeout=10) is not None  # stopped, not orphaned
        assert not vdir.root.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
