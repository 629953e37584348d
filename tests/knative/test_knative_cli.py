"""As a new user would, through the real ``agentdock`` command with ``KUBECONFIG`` pointing at the
API stand-in: deploy the invoice example with ``--image`` (prints the service URL), status shows
``live`` on ``<svc>-v1``, a second deploy, ``--canary 20``, ``promote`` and ``rollback`` move traffic,
``--dry-run --json`` changes nothing, and ``build --target knative`` writes service.yaml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from standin import KREV, KSVC, KubeStandIn
from standin_rules import schema_errors
from typer.testing import CliRunner

from agentdock.cli.main import app

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "invoice_copilot"
SVC, NS = "invoice-copilot", "agents"


def run(*args: str, json_out: bool = True) -> Any:
    result = CliRunner().invoke(app, [*args, *(["--json"] if json_out else [])])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if json_out else result.stdout


@pytest.fixture
def agent(tmp_path: Path, kubeconfig: Path, standin: KubeStandIn, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    standin.put_secret(
        NS, f"{SVC}-env", {"JWT_SECRET": "x", "LANGFUSE_PUBLIC_KEY": "x", "LANGFUSE_SECRET_KEY": "x"}
    )
    folder = tmp_path / "invoice"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder / "Dockfile.yaml"


def live(standin: KubeStandIn) -> list[tuple[str, int, str]]:
    svc = standin.get(KSVC, NS, SVC)
    return [(t["revisionName"], t["percent"], t["tag"]) for t in svc["spec"]["traffic"]]


def test_new_user_flow(agent: Path, standin: KubeStandIn) -> None:
    text = run("deploy", str(agent), "--target", "knative", "--image", "reg.example/inv:1", json_out=False)
    assert f"URL:  {standin.url}/_route/{NS}/{SVC}" in text and "v1 is live on knative" in text
    status = run("status", "invoice_copilot", "--target", "knative")
    assert status["live_version"] == 1
    assert status["details"]["traffic"][0] == {
        "revisionName": f"{SVC}-v1",
        "tag": "live",
        "percent": 100,
        "url": f"{standin.url}/_route/{NS}/{SVC}/live",
    }
    human = run("status", "invoice_copilot", "--target", "knative", json_out=False)
    assert f"live       -> {SVC}-v1 100%" in human

    before = standin.get(KSVC, NS, SVC)
    plan = run("deploy", str(agent), "--target", "knative", "--image", "reg.example/inv:2", "--dry-run")
    assert plan["options"]["revision"] == f"{SVC}-v2" and plan["diff"]["service"]
    assert standin.get(KSVC, NS, SVC)["spec"] == before["spec"]
    assert standin.get(KREV, NS, f"{SVC}-v2") is None

    canary = run(
        "deploy", str(agent), "--target", "knative", "--image", "reg.example/inv:2", "--canary", "20"
    )
    assert (canary["version"], canary["status"]) == (2, "canary")
    assert live(standin)[:2] == [(f"{SVC}-v1", 80, "live"), (f"{SVC}-v2", 20, "candidate")]
    run("promote", "invoice_copilot", "--target", "knative")
    assert live(standin)[0] == (f"{SVC}-v2", 100, "live")
    back = run("rollback", "invoice_copilot", "--target", "knative")
    assert (back["version"], back["previous_version"]) == (1, 2)
    assert live(standin)[0] == (f"{SVC}-v1", 100, "live")
    # every manifest sent validates against the CRD schema (the fixture also asserts none was refused)
    assert standin.state.received and all(schema_errors(m) == [] for m in standin.state.received)
    run("destroy", "invoice_copilot", "--target", "knative", "--yes")
    assert standin.get(KSVC, NS, SVC) is None


def test_build_writes_service_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    out = tmp_path / "ctx"
    run("build", str(EXAMPLE / "Dockfile.yaml"), "--target", "knative", "--out", str(out))
    doc = yaml.safe_load((out / "service.yaml").read_text())
    assert (out / "Dockerfile").is_file() and schema_errors(doc) == []
    assert doc["spec"]["template"]["metadata"]["name"] == f"{SVC}-v1"
    assert doc["spec"]["template"]["spec"]["containers"][0]["image"].startswith(f"agentdock/{SVC}:")
    assert (
        "JWT_SECRET" in (out / "service.yaml").read_text()
        and "secretKeyRef" in (out / "service.yaml").read_text()
    )


def test_a_postgres_deploy_store_puts_its_driver_in_the_image(
    agent: Path, standin: KubeStandIn, postgres_store_url: str
) -> None:
    """``deploy --store postgresql://...`` hands the revision that store (AGENTDOCK_STORE), so its
    image carries psycopg and LangGraph's Postgres saver (the example keeps threads in the store);
    a later ``build`` for the same target renders the same context from the remembered store."""
    run(
        "deploy",
        str(agent),
        "--target",
        "knative",
        "--image",
        "reg.example/inv:1",
        "--store",
        postgres_store_url,
    )
    container = standin.get(KSVC, NS, SVC)["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "AGENTDOCK_STORE", "value": postgres_store_url} in container["env"]
    deployed = standin.get(KSVC, NS, SVC)["spec"]["template"]["metadata"]["annotations"]
    built = run("build", str(agent), "--target", "knative")
    assert built["content_hash"] == deployed["agentdock.dev/content-hash"]
    locked = (Path(built["context_dir"]) / "requirements.txt").read_text()
    assert "\npsycopg==" in locked and "\nlanggraph-checkpoint-postgres==" in locked
    plain = run("build", str(agent), "--target", "knative", "--store", "sqlite:///elsewhere.db")
    assert plain["content_hash"] != built["content_hash"]  # a local store: the revision gets none
    assert "psycopg" not in (Path(plain["context_dir"]) / "requirements.txt").read_text()
