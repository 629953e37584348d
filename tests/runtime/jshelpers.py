"""Helpers for the LangGraph JS tests: the Node.js install in ``tests/js`` and running its scripts.

``make test`` installs ``tests/js`` (``npm ci`` from the committed lockfile); a missing Node.js or
``node_modules`` fails the test with that fix rather than skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests" / "js"
NODE_MAJOR = 20  # @langchain/langgraph-sdk's engines.node


def node() -> str:
    """The ``node`` binary, checked: Node.js >= 20 and ``tests/js`` installed at its lockfile."""
    found = shutil.which("node")
    if found is None:
        pytest.fail(
            f"Node.js >= {NODE_MAJOR} is needed for the LangGraph JS tests: install it, then `make test`"
        )
    version = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=30).stdout
    if int(version.strip().lstrip("v").split(".")[0]) < NODE_MAJOR:
        pytest.fail(
            f"Node.js {version.strip()} is too old for the LangGraph JS tests (>= {NODE_MAJOR} needed)"
        )
    wanted = json.loads((JS / "package.json").read_text())["dependencies"]
    for name, pinned in wanted.items():
        manifest = JS / "node_modules" / name / "package.json"
        got = json.loads(manifest.read_text())["version"] if manifest.exists() else None
        if got != pinned:
            pytest.fail(
                f"tests/js/node_modules has {name} {got or 'missing'}, the lockfile pins {pinned}: run "
                "`make test` (it runs `npm ci --prefix tests/js`)"
            )
    return found


def run_node(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """Run ``tests/js/<script>`` with ``args``; its stdout is one JSON document."""
    proc = subprocess.run(
        [node(), str(JS / script), *args],
        cwd=JS,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"{script} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout)
