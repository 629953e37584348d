"""``agentdock serve`` as a user runs it: a real process, a real port, then stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from rthelpers import free_port

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDOCK_")}
    env.update({"AGENTDOCK_FAKE_MODEL": "1", "AGENTDOCK_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"})
    return env


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentdock", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_serve_runs_the_dockfile_and_prints_a_dev_key(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentdock",
            "serve",
            str(EXAMPLES / "doc_summarizer" / "Dockfile.yaml"),
            "--port",
            str(port),
            "--json",
            "--env",
            "SUMMARY_HINT=1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline()]
        while lines[-1] not in ("}\n", ""):  # emit() prints one indented object
            lines.append(proc.stdout.readline())
        summary = json.loads("".join(lines))
        assert summary["url"] == f"http://127.0.0.1:{port}" and summary["agent"] == "doc_summarizer"
        key = summary["dev_api_key"]
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{summary['url']}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "server did not come up"
            time.sleep(0.1)
        response = httpx.post(
            f"{summary['url']}/invoke", json={"text": "Serve me. Now."}, headers={"x-api-key": key}
        )
        assert response.status_code == 200 and response.json() == {"summary": "Serve me."}
        log_line = json.loads(proc.stdout.readline())
        assert log_line["msg"] in {"app created", "agent loaded", "request"}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)


def test_serve_usage_errors(tmp_path: Path) -> None:
    env = _env(tmp_path)
    missing = _cli("serve", str(tmp_path / "nope.yaml"), "--json", env=env)
    assert missing.returncode == 2 and json.loads(missing.stdout)["ok"] is False
    bad_env = _cli("serve", str(EXAMPLES / "doc_summarizer" / "Dockfile.yaml"), "--env", "NOEQUALS", env=env)
    assert bad_env.returncode == 2 and "KEY=VALUE" in bad_env.stderr
    broken = tmp_path / "Dockfile.yaml"
    broken.write_text("version: '1.0'\nagent: {name: x}\n")
    invalid = _cli("serve", str(broken), "--json", env=env)
    assert invalid.returncode == 1
    assert json.loads(invalid.stdout)["error"]["code"] == 4000
    assert "Traceback" not in invalid.stderr


def test_serve_freezes_the_startup_heap_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What startup built is out of the cyclic GC's full passes by the time uvicorn serves: with
    it in, every full collection under load walked ~130k objects (bench/README.md)."""
    import gc

    import uvicorn
    from typer.testing import CliRunner

    from agentdock.cli.main import app

    for name, value in _env(tmp_path).items():
        if name.startswith("AGENTDOCK_"):
            monkeypatch.setenv(name, value)
    for name in ("AGENTDOCK_STORE", "AGENTDOCK_BOOTSTRAP_KEY_HASH", "AGENTDOCK_METRICS_LEDGER"):
        monkeypatch.setenv(name, "")  # recorded, so what serve sets is undone after the test
        monkeypatch.delenv(name)
    seen: dict[str, object] = {}

    def run(server: uvicorn.Server, sockets: list[object] | None = None) -> None:
        graph = server.config.app.state.runtime.host.agent  # type: ignore[union-attr]
        seen["frozen"] = gc.get_freeze_count()
        seen["graph_tracked_young"] = any(o is graph for o in gc.get_objects())
        for sock in sockets or ():
            sock.close()  # type: ignore[attr-defined]

    gc.unfreeze()
    monkeypatch.setattr(uvicorn.Server, "run", run)
    port = free_port()
    try:
        result = CliRunner().invoke(
            app, ["serve", str(EXAMPLES / "doc_summarizer" / "Dockfile.yaml"), "--port", str(port), "--json"]
        )
    finally:
        gc.unfreeze()
    assert result.exit_code == 0, result.output
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    assert seen["graph_tracked_young"] is False  # the built graph is among the frozen objects
