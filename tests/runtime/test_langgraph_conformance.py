"""Conformance: the same ``langgraph_sdk`` calls against ``langgraph dev`` and against AgentDock
return the same shapes (keys, JSON types, SSE event names); see ``lgconformance.py``.

``langgraph dev`` (``langgraph-cli[inmem]``, the reference server, offline) serves the review
graph of ``lghelpers`` from a ``langgraph.json`` in a temp folder, on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lgconformance import compare, sdk_calls, shape
from lghelpers import review_graph, review_spec, serve_agent
from rthelpers import free_port

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
GRAPH_MODULE = f"""import sys
sys.path.insert(0, {str(HERE)!r})
from lghelpers import review_graph
graph = review_graph()
"""


def _langgraph_cli() -> str | None:
    beside = Path(sys.executable).parent / "langgraph"
    return str(beside) if beside.exists() else shutil.which("langgraph")


@pytest.fixture(scope="module")
def langgraph_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cli = _langgraph_cli()
    if cli is None:
        pytest.skip("langgraph dev is not installed: pip install 'agentdock[langgraph-dev]'")
    folder = tmp_path_factory.mktemp("langgraph_dev")
    (folder / "graph.py").write_text(GRAPH_MODULE)
    (folder / "langgraph.json").write_text(
        '{"dependencies": ["."], "graphs": {"review_agent": "./graph.py:graph"}}'
    )
    port = free_port()
    env = {**os.environ, "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    args = [cli, "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        args, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"langgraph dev did not start: {(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_same_shapes_as_langgraph_dev(langgraph_dev: str) -> None:
    theirs = sdk_calls(langgraph_dev, None, "review_agent")
    with serve_agent(review_spec("memory"), agent=review_graph()) as served:
        ours = sdk_calls(served.url, served.keys["alice"], "review_agent")
    assert set(ours) == set(theirs)
    events = {k: (ours[k], theirs[k]) for k in ours if k.endswith(".events")}
    assert all(a == b for a, b in events.values()), events
    assert compare(shape(ours), shape(theirs)) == []
    # the values themselves agree where the graph decides them
    assert ours["runs.wait(stateless)"].keys() == theirs["runs.wait(stateless)"].keys()
    assert ours["runs.stream(resume).values"] == theirs["runs.stream(resume).values"]
