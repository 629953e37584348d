"""As a new user would, through the real ``agentdock`` command against the stand-in: build writes
service.yaml; deploy prints the URL; status shows ``live`` on ``<svc>-v1``; a second deploy as a
canary, promote and rollback move traffic; ``--dry-run --json`` changes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from crdiscovery import DiscoveryValidator, load_discovery
from crstandin import CloudRunStandIn
from typer.testing import CliRunner

from agentdock.cli.main import app

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "invoice_copilot"
PROJECT, REGION = "my-proj", "europe-west1"
IMAGE = "europe-west1-docker.pkg.dev/my-proj/agents/invoice-copilot@sha256:"
SERVICE = f"projects/{PROJECT}/locations/{REGION}/services/invoice-copilot"


def run(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def dockfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, standin: CloudRunStandIn
) -> Path:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AGENTDOCK_STORE", sqlite_url)
    for name in ("JWT_SECRET", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"):
        standin.add_secret(PROJECT, name)
    folder = shutil.copytree(
        EXAMPLE, tmp_path / "invoice_copilot", ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder / "Dockfile.yaml"


def test_build_writes_service_yaml(dockfile: Path, tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    built = run(
        "build", str(dockfile), "--target", "cloudrun", "--out", str(out), "--image", IMAGE + "c" * 64
    )
    assert any("service.yaml" in n for n in built["notes"])
    manifest = yaml.safe_load((out / "service.yaml").read_text())
    assert manifest["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE + "c" * 64
    assert {
        "name": "JWT_SECRET",
        "valueFrom": {"secretKeyRef": {"name": "JWT_SECRET", "key": "latest"}},
    } in container["env"]
    assert DiscoveryValidator(load_discovery("run.v1.json")).check("Service", manifest)[0] == []


def test_new_user_flow(dockfile: Path, standin: CloudRunStandIn) -> None:
    where = ["--target", "cloudrun", "--endpoint-url", standin.endpoint]
    deploy = ["deploy", str(dockfile), *where, "--project", PROJECT, "--region", REGION]
    plan = run(*deploy, "--image", IMAGE + "a" * 64, "--dry-run")
    assert plan["diff"]["service"] == {"service": {"live": None, "planned": "create"}}
    assert SERVICE not in standin.state.services and standin.bodies("services.create")  # validate_only only

    first = run(*deploy, "--image", IMAGE + "a" * 64)
    assert (first["version"], first["status"]) == (1, "live")
    assert first["url"] == f"{standin.endpoint}/_serve/invoice-copilot/-"
    status = run("status", "invoice_copilot", *where)
    assert status["details"]["live_revision"] == "invoice-copilot-v1" and status["live_version"] == 1

    canary = run(*deploy, "--image", IMAGE + "b" * 64, "--canary", "20")
    assert (canary["version"], canary["status"]) == (2, "canary")
    traffic = run("status", "invoice_copilot", *where)["details"]["traffic"]
    assert [(t["revisionName"], t["percent"], t["tag"]) for t in traffic[:2]] == [
        ("invoice-copilot-v1", 80, "live"),
        ("invoice-copilot-v2", 20, "candidate"),
    ]
    human = CliRunner().invoke(app, ["status", "invoice_copilot", *where]).output
    assert "live_revision: invoice-copilot-v1" in human
    assert "live       -> invoice-copilot-v1 80%" in human and "candidate  -> invoice-copilot-v2 20%" in human
    run("promote", "invoice_copilot", *where)
    assert run("status", "invoice_copilot", *where)["details"]["live_revision"] == "invoice-copilot-v2"
    back = run("rollback", "invoice_copilot", *where)
    assert back["version"] == 1
    assert run("status", "invoice_copilot", *where)["details"]["live_revision"] == "invoice-copilot-v1"
    assert len([r for r in standin.state.revisions if r.startswith(SERVICE)]) == 2
    gone = run("destroy", "invoice_copilot", *where, "--yes")
    assert gone["status"] == "destroyed" and SERVICE not in standin.state.services
    logs = CliRunner().invoke(app, ["logs", "invoice_copilot", *where])
    assert logs.exit_code != 0 and "does not serve logs here" in logs.output
