"""The LangGraph API as a new user tries it: the real ``langgraph_sdk`` sync client against
``agentdock serve`` and a local deploy of the shipped invoice_copilot, both started with the CLI
(subprocesses, ``--json``), with a key from ``agentdock keys create``.

The done-when: ``threads.create()``, ``runs.wait`` twice on the thread (the second run sees the
first one's messages), ``runs.stream(..., stream_mode="messages-tuple")`` printing tokens. The
example keeps threads in the store (``state: {checkpointer: store}``: SQLite here), so a thread
also survives a restart of ``serve`` and a redeploy to a new version.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.sdkflow import AGENT, continues, done_when

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "invoice_copilot"
VALUES = ["JWT_SECRET=" + "j" * 40, "LANGFUSE_PUBLIC_KEY=pk-lf-test", "LANGFUSE_SECRET_KEY=sk-lf-test"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def user(tmp_path: Path) -> dict[str, str]:
    """A newcomer's environment: a fresh AGENTDOCK_HOME, the offline model, nothing else of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDOCK_", "LANGFUSE_", "OPENAI_"))}
    env |= {"AGENTDOCK_HOME": str(tmp_path / "home"), "AGENTDOCK_FAKE_MODEL": "1", "PYTHONUNBUFFERED": "1"}
    return env


def agentdock(env: dict[str, str], *args: str, timeout: float = 180) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "agentdock", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"agentdock {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return dict(json.loads(done.stdout))


def developer_key(env: dict[str, str], *store: str) -> str:
    return str(agentdock(env, "keys", "create", AGENT, "--role", "developer", "--json", *store)["key"])


@contextmanager
def serve(env: dict[str, str], dockfile: Path, port: int) -> Iterator[str]:
    """``agentdock serve --json``: stdout starts with the startup summary."""
    env_args = [a for v in VALUES for a in ("--env", v)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentdock", "serve", str(dockfile), "--port", str(port), "--json", *env_args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        text = ""
        while not text.startswith("{") or not text.rstrip().endswith("}"):  # one (indented) object
            line = proc.stdout.readline()
            assert line, f"serve exited: {proc.stderr.read() if proc.stderr else ''}"
            text += line
        summary = json.loads(text)
        assert summary["ok"] and summary["agent"] == AGENT
        url = str(summary["url"])
        deadline = time.monotonic() + 30
        while True:  # the summary is printed just before uvicorn takes the bound socket over
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve never answered /health"
            time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_agentdock_serve(user: dict[str, str]) -> None:
    dockfile = EXAMPLE / "Dockfile.yaml"
    key = developer_key(user)  # into the agent's default store, the one serve reads
    with serve(user, dockfile, free_port()) as url:
        thread_id, count = done_when(url, key)
    with serve(user, dockfile, free_port()) as url:  # a restart: threads are in the SQLite store
        continues(url, key, thread_id, count)


def test_local_deploy_and_a_redeploy(user: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "invoice_copilot"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".env"))
    dockfile = project / "Dockfile.yaml"
    store = ("--store", f"sqlite:///{tmp_path / 'agentdock.db'}")
    port = free_port()
    env_args = [a for v in VALUES for a in ("--env", v)]
    deploy = ["deploy", str(dockfile), "--port", str(port), "--json", *store, *env_args]
    try:
        first = agentdock(user, *deploy)
        assert (first["status"], first["version"], first["url"]) == ("live", 1, f"http://127.0.0.1:{port}")
        key = developer_key(user, *store)
        thread_id, count = done_when(first["url"], key)

        # a new version (a changed source file), started, gated, live: the thread is still there
        agent_py = project / "agent.py"
        agent_py.write_text(agent_py.read_text() + "\n# v2\n")
        second = agentdock(user, *deploy)
        assert (second["status"], second["version"], second["previous_version"]) == ("live", 2, 1)
        status = agentdock(user, "status", AGENT, "--json", *store)
        assert status["live_version"] == 2 and status["healthy"]
        continues(second["url"], key, thread_id, count)
    finally:
        subprocess.run(
            [sys.executable, "-m", "agentdock", "destroy", AGENT, "--json", *store],
            env=user,
            capture_output=True,
            timeout=60,
        )
