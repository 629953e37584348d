"""Fixtures for the local target: tmp AGENTDOCK_HOME + SQLite store, free ports, an agent
project whose reply says which version answered, and a cleanup that destroys what tests deployed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.local import LocalTarget
from agentdock.targets.local.process import free_port

from agentdock.store import open_store
from agentdock.store.base import MetadataStore

AGENT_PY = """from typing import TypedDict

from langgraph.graph import END, START, StateGraph

REPLY = "{reply}"


class State(TypedDict, total=False):
    text: str
    reply: str


def build():
{prelude}    def node(state: State) -> dict:
        return {{"reply": f"{{REPLY}}:{{state['text']}}"}}

    graph = StateGraph(State)
    graph.add_node("answer", node)
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    return graph.compile()
"""

DOCKFILE = """version: "1.0"
agent: {{name: {name}, entrypoint: "agent:build", framework: langgraph}}
model: {{provider: openai, name: gpt-4o-mini}}
io_schema:
  input: {{type: object, properties: {{text: {{type: string}}}}, required: [text]}}
  output: {{type: object, properties: {{reply: {{type: string}}}}, required: [reply]}}
auth: {{mode: api_key, api_keys: {{enabled: true}}}}
expose: {{streaming: sse}}
"""


class Project:
    """An agent folder; ``set_reply`` changes the source (a new version), ``break_it`` makes the
    graph fail at startup (a failing health gate)."""

    def __init__(self, root: Path, name: str = "echo_agent") -> None:
        self.root = root
        self.name = name
        root.mkdir(parents=True, exist_ok=True)
        (root / "Dockfile.yaml").write_text(DOCKFILE.format(name=name))
        self.set_reply("v1")

    @property
    def dockfile(self) -> Path:
        return self.root / "Dockfile.yaml"

    def set_reply(self, reply: str) -> None:
        (self.root / "agent.py").write_text(AGENT_PY.format(reply=reply, prelude=""))

    def break_it(self) -> None:
        prelude = '    raise RuntimeError("model endpoint unreachable (deliberately broken)")\n'
        (self.root / "agent.py").write_text(AGENT_PY.format(reply="broken", prelude=prelude))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("AGENTDOCK_HOME", str(path))
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    monkeypatch.delenv("AGENTDOCK_KEY_PEPPER", raising=False)
    return path


@pytest.fixture
def store_url(home: Path) -> str:
    return f"sqlite:///{home / 'agentdock.db'}"


@pytest.fixture
def store(store_url: str) -> MetadataStore:
    return open_store(store_url)


@pytest.fixture
def project(tmp_path: Path, home: Path) -> Project:
    return Project(tmp_path / "echo")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def local(store: MetadataStore, home: Path) -> Iterator[Callable[..., LocalTarget]]:
    """A factory of LocalTargets on the test store; every agent they touched is destroyed after."""
    made: list[LocalTarget] = []

    def make(**settings: Any) -> LocalTarget:
        target = LocalTarget(store=open_store(store.url), home=home / "local", **settings)
        made.append(target)
        return target

    yield make
    cleaner = LocalTarget(store=store, home=home / "local")
    agents = {p.name for p in (home / "local").iterdir()} if (home / "local").is_dir() else set()
    for agent in agents:
        cleaner.destroy(agent)


class ThreadServer:
    """A uvicorn server for a test ASGI app in a thread (backends for the proxy tests)."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        self.port = port
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "test backend did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
