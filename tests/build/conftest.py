"""Fixtures for build-context tests: a small agent project with secrets in .env and env."""

from __future__ import annotations

from pathlib import Path

import pytest

AGENT_PY = """from typing import TypedDict

from langgraph.graph import END, START, StateGraph

REPLY = "v1"


class State(TypedDict, total=False):
    text: str
    reply: str


def build():
    def node(state: State) -> dict:
        return {"reply": f"{REPLY}:{state['text']}"}

    graph = StateGraph(State)
    graph.add_node("answer", node)
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    return graph.compile()
"""

DOCKFILE = """version: "1.0"
agent: {name: echo_agent, entrypoint: "agent:build", framework: langgraph}
model: {provider: openai, name: gpt-4o-mini}
io_schema:
  input: {type: object, properties: {text: {type: string}}, required: [text]}
  output: {type: object, properties: {reply: {type: string}}, required: [reply]}
auth:
  mode: jwt
  jwt: {secret_key: "${JWT_SECRET}"}
  api_keys: {enabled: true}
observability:
  langfuse: {project: demo, public_key: "${LANGFUSE_PUBLIC_KEY}", secret_key: "${LANGFUSE_SECRET_KEY}"}
expose: {streaming: sse}
deploy:
  secrets: {OPENAI_API_KEY: env}
"""

# Values supplied through .env and the process env: none may appear in any rendered context.
DOTENV_SECRETS = {
    "JWT_SECRET": "dotenv-jwt-secret-7f3a9c1e5b2d4a60",
    "LANGFUSE_SECRET_KEY": "sk-lf-dotenv-9a8b7c6d5e4f3a2b",
}
ENV_SECRETS = {
    "LANGFUSE_PUBLIC_KEY": "pk-lf-env-1122334455667788",
    "OPENAI_API_KEY": "sk-env-openai-aabbccddeeff0011",
}


def write_project(root: Path, *, dockfile: str = DOCKFILE, agent_py: str = AGENT_PY) -> Path:
    """An agent folder with junk that must never reach a context; returns the Dockfile path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockfile.yaml").write_text(dockfile)
    (root / "agent.py").write_text(agent_py)
    (root / "requirements.txt").write_text("# the agent's own deps\nhttpx==0.28.1\nagentdock>=0.0.1\n")
    (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in DOTENV_SECRETS.items()))
    (root / ".env.production").write_text("JWT_SECRET=prod-secret-should-never-ship\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "agent.cpython-311.pyc").write_bytes(b"\x00pyc")
    venv = root / "myenv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib.py").write_text("x = 1\n")
    (root / "prompts").mkdir()
    (root / "prompts" / "system.txt").write_text("Be brief.\n")
    return root / "Dockfile.yaml"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AGENTDOCK_HOME in tmp, and no store/wheel settings leaking in from the caller's env."""
    path = tmp_path / "home"
    monkeypatch.setenv("AGENTDOCK_HOME", str(path))
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    monkeypatch.delenv("AGENTDOCK_WHEEL", raising=False)
    return path


@pytest.fixture
def project(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in ENV_SECRETS.items():
        monkeypatch.setenv(key, value)
    for key in DOTENV_SECRETS:
        monkeypatch.delenv(key, raising=False)
    return write_project(tmp_path / "echo")
