"""``agentdock token issue``: the minted token is accepted by the agent's own verifier."""

from __future__ import annotations

import json
from pathlib import Path

import jwt as pyjwt
import pytest
from typer.testing import CliRunner

from agentdock.cli.main import app

pytestmark = pytest.mark.unit

SECRET = "cli-secret-" + "z" * 32
DOCKFILE = """
version: "1.0"
agent: {name: cli_agent, entrypoint: "agent:build", framework: langgraph}
model: {provider: openai, name: gpt-4o-mini}
io_schema:
  input: {type: object, properties: {question: {type: string}}}
  output: {type: object, properties: {answer: {type: string}}}
auth:
  mode: MODE
  jwt: {secret_key: "${JWT_SECRET}", expiry_minutes: 15}
  api_keys: {enabled: true}
  roles:
    - {name: tester, permissions: [invoke]}
"""


@pytest.fixture
def dockfile(tmp_path: Path) -> Path:
    path = tmp_path / "Dockfile.yaml"
    path.write_text(DOCKFILE.replace("MODE", "jwt"))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["token", "issue", *args])
    return result.exit_code, result.stdout


def test_issue_json(dockfile: Path) -> None:
    code, out = run(
        str(dockfile),
        "--sub",
        "alice",
        "--role",
        "tester",
        "--ttl",
        "2h",
        "--env",
        f"JWT_SECRET={SECRET}",
        "--json",
    )
    assert code == 0, out
    data = json.loads(out)
    claims = pyjwt.decode(data["token"], SECRET, algorithms=["HS256"], audience="cli_agent")
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == ("alice", "tester", 7200)
    assert data["aud"] == "cli_agent" and data["ttl_s"] == 7200


def test_issue_prints_the_bare_token(dockfile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    code, out = run(str(dockfile), "--sub", "bob", "--role", "tester")
    assert code == 0
    claims = pyjwt.decode(out.strip(), SECRET, algorithms=["HS256"], audience="cli_agent")
    assert claims["exp"] - claims["iat"] == 15 * 60  # auth.jwt.expiry_minutes


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--role", "ghost"], 2, "role 'ghost' is not defined"),
        (["--role", "tester", "--ttl", "soon"], 2, "--ttl expects"),
        (["--role", "tester", "--env", "nonsense"], 2, "KEY=VALUE"),
    ],
)
def test_usage_errors(dockfile: Path, args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(
        app, ["token", "issue", str(dockfile), "--sub", "x", "--env", f"JWT_SECRET={SECRET}", *args, "--json"]
    )
    assert result.exit_code == code
    assert message in json.loads(result.stdout)["error"]["message"]


def test_unresolved_secret_and_wrong_mode_fail_cleanly(
    dockfile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    code, out = run(str(dockfile), "--sub", "x", "--role", "tester", "--json")
    assert code == 1 and json.loads(out)["ok"] is False
    dockfile.write_text(DOCKFILE.replace("MODE", "api_key"))
    code, out = run(
        str(dockfile), "--sub", "x", "--role", "tester", "--env", f"JWT_SECRET={SECRET}", "--json"
    )
    assert code == 1 and "does not accept HS256 tokens" in json.loads(out)["error"]["message"]
    code, _ = run(str(dockfile.parent / "missing.yaml"), "--sub", "x", "--role", "tester")
    assert code == 2
