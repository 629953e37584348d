"""Remembered settings and one answer for an unknown agent (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentdock.cli.main import app
from agentdock.ops.remembered import recall, remember, settings_file, where
from agentdock.store import open_store

pytestmark = pytest.mark.functional


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    return tmp_path / "home"


def test_flags_win_and_another_target_forgets_the_location(home: Path) -> None:
    remember("bot", target="lambda", region="eu-west-1", store="dynamodb://t", function_name="bot-fn")
    assert where("bot").target == "lambda" and where("bot").region == "eu-west-1"
    assert where("bot", region="us-east-1").region == "us-east-1"
    assert where("bot", target="local").region is None  # another target: its own defaults
    assert where("unknown").target == "local"
    remember("bot", store="postgresql://u:secret@db/x")  # a password is never written
    assert "secret" not in settings_file().read_text() and recall("bot")["store"] == "dynamodb://t"
    assert oct(settings_file().stat().st_mode & 0o777) == "0o600"


def test_keys_go_to_the_store_the_agent_was_deployed_with(home: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deployed.db'}"
    open_store(url).ensure_agent("bot")
    remember("bot", target="local", store=url)
    created = CliRunner().invoke(app, ["keys", "create", "bot", "--role", "developer", "--json"])
    assert created.exit_code == 0, created.output
    key_id = json.loads(created.stdout)["key_id"]
    assert open_store(url).get_key(key_id) is not None  # not in the default SQLite file
    listed = CliRunner().invoke(app, ["keys", "list", "bot", "--json"])
    assert [k["key_id"] for k in json.loads(listed.stdout)["keys"]] == [key_id]


def test_an_unknown_agent_is_the_same_error_everywhere_and_destroy_writes_no_audit(home: Path) -> None:
    runner = CliRunner()
    codes = {}
    for args in (["keys", "list", "ghost"], ["versions", "ghost"], ["destroy", "ghost", "--yes"]):
        result = runner.invoke(app, [*args, "--json"])
        codes[args[0]] = result.exit_code
        assert json.loads(result.stdout)["error"]["name"] == "AgentNotFound", result.output
    assert set(codes.values()) == {1}
    status = runner.invoke(app, ["status", "ghost", "--json"])
    assert status.exit_code == 1
    assert open_store(None).list_audit("ghost", limit=10) == []
