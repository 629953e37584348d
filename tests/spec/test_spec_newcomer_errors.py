"""Errors a newcomer meets first (issue 17): their own build() failing, missing variables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from spec_helpers import FIXTURES
from typer.testing import CliRunner

from agentdock.cli.main import app

pytestmark = pytest.mark.functional


@pytest.fixture(autouse=True)
def _serve_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve`` runs in process here and sets process variables: undo them after each test."""
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AGENTDOCK_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("AGENTDOCK_BOOTSTRAP_KEY_HASH", "unset")
    monkeypatch.delenv("AGENTDOCK_BOOTSTRAP_KEY_HASH")


def test_an_exception_in_the_users_build_shows_their_traceback(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "minimal", tmp_path, dirs_exist_ok=True)
    (tmp_path / "agent.py").write_text(
        "def helper():\n    raise ValueError('boom in my code')\n\n\ndef build_graph():\n    return helper()\n"
    )
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "Dockfile.yaml"), "--port", "1"])
    assert result.exit_code == 1
    out = result.output
    assert "EntrypointNotFound" not in out and "AgentLoadError" in out
    assert "boom in my code" in out
    assert 'agent.py", line 2, in helper' in out and "line 6, in build_graph" in out


def test_missing_variables_are_listed_one_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JWT_SECRET", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(FIXTURES / "full", tmp_path, dirs_exist_ok=True)
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "Dockfile.yaml")])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for name in ("JWT_SECRET", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"):
        mentioning = [line for line in lines if name in line and line.lstrip().startswith("- ")]
        assert len(mentioning) == 1, (name, result.output)
    assert not any(line.count("${") > 1 for line in lines), result.output


ONE_TOOL_AGENT = '''
from langchain_core.tools import tool


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def build_graph():
    return get_weather
'''


def test_a_one_tool_agent_without_policies_gets_a_warning_naming_the_line(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "minimal", tmp_path, dirs_exist_ok=True)
    (tmp_path / "agent.py").write_text(ONE_TOOL_AGENT)
    from agentdock.spec import validate_file

    report = validate_file(tmp_path / "Dockfile.yaml")
    tools = [w for w in report.warnings if w.path == "policies.tools.allowed"]
    assert len(tools) == 1 and "get_weather" in tools[0].cause
    assert tools[0].hint is not None and "allowed: [get_weather]" in tools[0].hint
    strict = CliRunner().invoke(app, ["validate", "--strict", str(tmp_path / "Dockfile.yaml")])
    assert strict.exit_code == 1 and "get_weather" in strict.output


def test_a_denied_tool_error_names_the_line_to_add() -> None:
    from agentdock.errors import ToolDenied
    from agentdock.policy import Policy

    policy = Policy(allowed_tools=["search"], deny_by_default=True)
    import asyncio

    with pytest.raises(ToolDenied) as info:
        asyncio.run(policy.on_tool_start("get_weather", {}))
    assert "allowed: [search, get_weather]" in info.value.cause
