"""`agentdock deploy/status/logs/rollback/destroy` on the local target through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from agentdock.cli.main import app
from agentdock.store.base import MetadataStore
from tests.local.conftest import Project

pytestmark = pytest.mark.integration
runner = CliRunner()
SECRET = "jwt-secret-from-dotenv-3c5e7a9b1d"


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_first_deploy_prints_url_key_and_curl(
    local: Any, store: MetadataStore, store_url: str, project: Project, port: int, home: Path
) -> None:
    text = project.dockfile.read_text().replace(
        "auth: {mode: api_key, api_keys: {enabled: true}}",
        'auth: {mode: api_key, api_keys: {enabled: true}, jwt: {secret_key: "${JWT_SECRET}"}}',
    )
    project.dockfile.write_text(text)
    (project.root / ".env").write_text(f"JWT_SECRET={SECRET}\n")

    dry = cli(
        "deploy", str(project.dockfile), "--port", str(port), "--dry-run", "--json", "--store", store_url
    )
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["diff"]["mode"] == "deploy"
    assert store.list_versions(project.name) == []  # a dry run changes nothing

    first = cli(
        "deploy", str(project.dockfile), "--port", str(port), "--store", store_url, "--actor", "ci-bot"
    )
    assert first.exit_code == 0, first.output
    for step in ("validate", "build (local)", "register", "start v1", "health ok", "live"):
        assert f"→ {step}" in first.stderr
    lines = first.stdout.splitlines()
    key = next(line.split()[1] for line in lines if line.strip().startswith("key:"))
    curl = next(line for line in lines if "curl -s" in line)
    assert f"http://127.0.0.1:{port}/invoke" in curl and key in curl
    r = httpx.post(
        f"http://127.0.0.1:{port}/invoke", json={"text": "hi"}, headers={"x-api-key": key}, timeout=10
    )
    assert r.status_code == 200 and r.json() == {"reply": "v1:hi"}
    audit = store.list_audit(project.name)
    assert {(a.action, a.actor) for a in audit} == {("deploy", "ci-bot"), ("key.create", "ci-bot")}

    again = cli("deploy", str(project.dockfile), "--port", str(port), "--store", store_url, "--json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert set(data) == {"agent", "version", "url", "target", "status", "duration_ms", "previous_version"}
    assert (data["status"], data["version"], data["target"]) == ("unchanged", 1, "local")

    status = json.loads(cli("status", project.name, "--json", "--store", store_url).stdout)
    assert (status["live_version"], status["healthy"], status["url"]) == (1, True, f"http://127.0.0.1:{port}")
    logs = json.loads(cli("logs", project.name, "--json", "--store", store_url, "-n", "500").stdout)
    assert any("startup complete" in line for line in logs["lines"])

    no_prev = cli("rollback", project.name, "--store", store_url)
    assert no_prev.exit_code == 1 and "no previous version" in no_prev.output

    # The secret reached the process (the app started with ${JWT_SECRET} resolved) but no file.
    for path in home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"secret leaked into {path}"

    gone = cli("destroy", project.name, "--json", "--store", store_url)
    assert gone.exit_code == 0 and json.loads(gone.stdout)["status"] == "destroyed"
    after = cli("status", project.name, "--store", store_url, "--json")
    assert after.exit_code == 1  # not serving: scripts can test `agentdock status x`
    assert json.loads(after.stdout)["history"]  # the history remains


def test_failed_deploy_exits_nonzero_with_the_cause(
    local: Any, store_url: str, project: Project, port: int
) -> None:
    project.break_it()
    result = cli("deploy", str(project.dockfile), "--port", str(port), "--store", store_url, "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["name"] == "HealthGateFailed" and "deliberately broken" in error["message"]
    assert "nothing was live" in error["hint"]


def test_port_in_use_is_refused_before_anything_is_registered(
    local: Any, store: MetadataStore, store_url: str, project: Project
) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        result = cli("deploy", str(project.dockfile), "--port", str(busy), "--store", store_url)
    assert result.exit_code == 1 and f"port {busy}" in result.output and "--port" in result.output
    assert store.list_versions(project.name) == []
