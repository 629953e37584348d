"""The CI flow through the real ``agentdock`` command against moto: dry-run, deploy (default gate =
the real local preflight, since the endpoint is an emulator), canary, promote, rollback without a
rebuild, status --json. The image is given with --image-uri, as a CI pipeline that built it would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from lambdahelpers import unique_name
from typer.testing import CliRunner

from agentdock.cli.main import app

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "doc_summarizer"


def dockfile(tmp_path: Path, name: str, description: str) -> Path:
    folder = tmp_path / "agent"
    folder.mkdir(exist_ok=True)
    for item in EXAMPLE.iterdir():
        if item.is_file():
            (folder / item.name).write_bytes(item.read_bytes())
    data = yaml.safe_load((EXAMPLE / "Dockfile.yaml").read_text())
    data["agent"].update(name=name, description=description)
    path = folder / "Dockfile.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_ci_flow_deploy_canary_promote_rollback_status(
    aws: str, client: Any, ecr_image: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AGENTDOCK_STORE", sqlite_url)
    name = unique_name("cli").replace("-", "_")
    fn = name.replace("_", "-")
    v1, v2 = dockfile(tmp_path, name, "first"), None
    image1 = ecr_image(f"agentdock/{fn}", "1")

    plan = run("deploy", str(v1), "--target", "lambda", "--image-uri", image1, "--dry-run")
    assert plan["options"]["health_gate"] == "preflight" and plan["diff"]["function"]["change"] == "create"
    with pytest.raises(client("lambda").exceptions.ResourceNotFoundException):
        client("lambda").get_function(FunctionName=fn)

    first = run("deploy", str(v1), "--target", "lambda", "--image-uri", image1)
    assert (first["status"], first["version"]) == ("live", 1)

    v2 = dockfile(tmp_path, name, "second")
    image2 = ecr_image(f"agentdock/{fn}", "2")
    canary = run(
        "deploy",
        str(v2),
        "--target",
        "lambda",
        "--image-uri",
        image2,
        "--canary",
        "20",
        "--health-gate",
        "none",
    )
    assert (canary["status"], canary["version"]) == ("canary", 2)
    alias = client("lambda").get_alias(FunctionName=fn, Name="live")
    assert alias["FunctionVersion"] == "1" and alias["RoutingConfig"]["AdditionalVersionWeights"] == {
        "2": 0.2
    }

    promoted = run("promote", name, "--target", "lambda")
    assert promoted["version"] == 2
    back = run("rollback", name, "1", "--target", "lambda")
    assert (back["version"], back["previous_version"]) == (1, 2)
    assert client("lambda").get_alias(FunctionName=fn, Name="live")["FunctionVersion"] == "1"

    status = run("status", name, "--target", "lambda")
    assert status["live_version"] == 1 and status["details"]["function_version"] == "1"
    assert status["details"]["invoke_mode"] == "RESPONSE_STREAM"
    assert [v["lambda_version"] for v in status["details"]["versions"]] == ["1", "2"]
    assert status["details"]["last_deploy"]["action"] == "rollback"


def test_lambda_defaults_to_a_dynamodb_store_the_function_can_reach(
    aws: str, client: Any, ecr_image: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --store, no deploy.store, no AGENTDOCK_STORE: a local SQLite file would hold the API key
    the deploy prints while the function could never read it, so Lambda defaults to DynamoDB."""
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    name = unique_name("dflt").replace("-", "_")
    fn = name.replace("_", "-")
    path, image = dockfile(tmp_path, name, "default store"), ecr_image(f"agentdock/{fn}", "1")

    run("deploy", str(path), "--target", "lambda", "--image-uri", image, "--dry-run")
    deployed = run("deploy", str(path), "--target", "lambda", "--image-uri", image)

    env = client("lambda").get_function_configuration(FunctionName=fn)["Environment"]["Variables"]
    assert env["AGENTDOCK_STORE"] == "dynamodb://agentdock-meta"
    key_id = deployed["api_key"].split("_")[1]
    item = client("dynamodb").get_item(
        TableName="agentdock-meta", Key={"PK": {"S": f"KEY#{key_id}"}, "SK": {"S": "KEY"}}
    )
    assert item["Item"]["agent"]["S"] == name and deployed["api_key"] not in json.dumps(item["Item"])
    assert run("status", name, "--target", "lambda")["live_version"] == 1
    human = CliRunner().invoke(app, ["status", name, "--target", "lambda"])
    assert (
        human.exit_code == 0
        and "alias: live  function_version: 1  invoke_mode: RESPONSE_STREAM" in human.stdout
    )


def test_a_postgres_deploy_store_puts_its_driver_in_the_image(
    aws: str, ecr_image: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_store_url: str
) -> None:
    """``deploy --store postgresql://...`` hands the function that store, so the context it renders
    (and ``build`` with the same store) locks psycopg: without it the function refuses to start."""
    home = tmp_path / "home"
    monkeypatch.setenv("AGENTDOCK_HOME", str(home))
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    name = unique_name("pgst").replace("-", "_")
    path, image = (
        dockfile(tmp_path, name, "postgres store"),
        ecr_image(f"agentdock/{name.replace('_', '-')}", "1"),
    )

    plan = run(
        "deploy",
        str(path),
        "--target",
        "lambda",
        "--image-uri",
        image,
        "--store",
        postgres_store_url,
        "--dry-run",
    )
    assert postgres_store_url in json.dumps(plan)  # the function's AGENTDOCK_STORE
    (context,) = (home / "contexts" / name).iterdir()
    assert plan["artifact"]["content_hash"].split(":")[1].startswith(context.name.rsplit("-", 1)[1])
    assert "\npsycopg==" in (context / "requirements.txt").read_text()
    built = run("build", str(path), "--target", "lambda", "--store", postgres_store_url)
    assert built["content_hash"] == plan["artifact"]["content_hash"]
