"""The README's demo, run literally and in order, as a newcomer would (issue 17).

The commands are taken from the block under ``<!-- readme-test: demo -->`` in README.md and each
line runs unchanged in bash, in a scratch folder laid out like the clone (its Makefile and
examples, ``.venv`` = the environment running the tests), with a temp ``AGENTDOCK_HOME`` and a
free port given the way the README says (``PORT=...``). The ``try:`` curl line that ``make demo``
prints is pasted as printed. Then: the redeploy kept the URL, and nothing is left listening.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def readme_block(marker: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    at = text.index(f"<!-- readme-test: {marker}")
    block = re.search(r"```bash\n(.*?)```", text[at:], re.S)
    assert block is not None, f"no bash block after the {marker} marker"
    return [line for line in block.group(1).splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_readme_points_to_one_command_each_for_demo_and_tests() -> None:
    text = README.read_text(encoding="utf-8")
    assert "```bash\nmake demo\n```" in text and "```bash\nmake test\n```" in text
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line.startswith("make ")] == ["make test"]
    for doc in ("docs/dockfile.md", "docs/cli.md", "docs/security.md", "docs/streaming.md"):
        assert f"({doc})" in text and (ROOT / doc).is_file(), doc


def test_the_readme_demo_runs_literally_in_order(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("Makefile", "examples", "pyproject.toml"):
        (clone / name).symlink_to(ROOT / name)
    (clone / ".venv").symlink_to(Path(sys.prefix))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDOCK_") and k != "VENV"}
    env.update(
        AGENTDOCK_HOME=str(tmp_path / "home"),
        AGENTDOCK_FAKE_MODEL="1",
        PORT=str(port),  # README: `make demo PORT=8099 moves it`; make reads PORT from the environment
        PYTHONUNBUFFERED="1",
    )
    url = f"http://127.0.0.1:{port}"
    commands = readme_block("demo")
    assert commands[0].startswith("make demo") and commands[-1].startswith("make demo-down")
    outputs: list[str] = []
    try:
        for line in commands:
            done = subprocess.run(
                ["bash", "-c", line], cwd=clone, env=env, capture_output=True, text=True, timeout=180
            )
            outputs.append(done.stdout + done.stderr)
            assert done.returncode == 0, f"{line!r} failed:\n{done.stdout}\n{done.stderr}"
            if line.startswith("make demo") and "down" not in line:
                assert f"URL:  {url}" in done.stdout
                tries = [t for t in done.stdout.splitlines() if t.strip().startswith("try:")]
                assert tries, done.stdout
                pasted = tries[0].strip()[len("try:") :].strip()
                called = subprocess.run(
                    ["bash", "-c", pasted], env=env, capture_output=True, text=True, timeout=60
                )
                assert called.returncode == 0 and "summary" in json.loads(called.stdout), called.stdout
            if "--force" in line:  # "v2, same URL and port": no --port on the command line
                assert "v2 is live" in done.stdout and f"URL:  {url}" in done.stdout
        status = outputs[1]
        assert "doc_summarizer on local: v1, healthy" in status and url in status
    finally:
        subprocess.run(
            [str(clone / ".venv" / "bin" / "agentdock"), "destroy", "doc_summarizer", "--yes"],
            env=env,
            capture_output=True,
            timeout=60,
        )
    assert not listening(port), "the demo left a process on its port"
