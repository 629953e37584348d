"""``agentdock preflight`` from the command line: the default example passes; a ``${VAR}`` with
no value refuses, naming it and where it looked (never the shell's environment)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentdock.cli.main import app
from tests.preflight.conftest import DEFAULT_EXAMPLE, copy_example

pytestmark = pytest.mark.integration


def test_the_default_example_passes_from_the_cli() -> None:
    out = CliRunner().invoke(
        app, ["preflight", str(DEFAULT_EXAMPLE / "Dockfile.yaml"), "-t", "knative", "--json"]
    )
    assert out.exit_code == 0, out.stdout
    data = json.loads(out.stdout)
    assert data["invoke"] == "ok" and data["content_hash"].startswith("sha256:")


def test_a_reference_without_a_value_is_refused_listing_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (DEFAULT_EXAMPLE / "Dockfile.yaml").read_text()
    head, _, _ = text.partition("auth:")
    dockfile = copy_example(
        tmp_path / "agent",
        head + "auth:\n  mode: jwt\n  jwt:\n    secret_key: ${JWT_SECRET}\nexpose:\n  streaming: sse\n",
    )
    monkeypatch.setenv("JWT_SECRET", "from-the-shell-is-not-used-0123456789")
    out = CliRunner().invoke(app, ["preflight", str(dockfile), "-t", "knative", "--json"])
    assert out.exit_code != 0
    assert "JWT_SECRET" in out.stdout and ".env" in out.stdout and "--env" in out.stdout
    assert "from-the-shell" not in out.stdout


def test_deploy_env_reaches_the_started_cmd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph factory refuses to build unless the plain values the target sets are there."""
    text = (DEFAULT_EXAMPLE / "Dockfile.yaml").read_text()
    dockfile = copy_example(tmp_path / "agent", text + 'deploy:\n  env:\n    PLAIN_FLAG: "${FLAG}-x"\n')
    agent = dockfile.parent / "agent.py"
    agent.write_text(
        agent.read_text().replace(
            "def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:\n",
            "def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:\n"
            "    import os\n\n"
            '    if os.environ.get("PLAIN_FLAG") != "on-x":\n'
            '        raise RuntimeError("deploy.env PLAIN_FLAG did not reach the function")\n',
        )
    )
    assert "PLAIN_FLAG" in agent.read_text()
    monkeypatch.setenv("PLAIN_FLAG", "from-the-shell")  # never used: only what the target sets
    out = CliRunner().invoke(app, ["preflight", str(dockfile), "-t", "knative", "--json", "--env", "FLAG=on"])
    assert out.exit_code == 0, out.stdout
    assert json.loads(out.stdout)["invoke"] == "ok"
    # Without the value, the deploy.env reference refuses before anything starts.
    refused = CliRunner().invoke(app, ["preflight", str(dockfile), "-t", "knative", "--json"])
    assert refused.exit_code != 0 and "FLAG" in refused.stdout
