"""CI rollback of a function AgentDock never deployed (a CDK ``AgentFunction``): created with boto3
directly on the moto server (an image, two published versions, alias ``live``), then driven through
the real ``agentdock`` command with ``--function``: status and rollback read Lambda, record what
they found and did in the store, and move the very alias."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from lambdahelpers import unique_name
from typer.testing import CliRunner

from agentdock.cli.main import app
from agentdock.store import open_store

pytestmark = pytest.mark.integration

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def run(*args: str, code: int = 0) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def image_function(client: Callable[[str], Any], ecr_image: Callable[[str, str], str], fn: str) -> Any:
    """An image function created with boto3 directly (its own role, image ``cdk/<fn>:a``)."""
    lam = client("lambda")
    role = client("iam").create_role(RoleName=f"cdk-{fn}", AssumeRolePolicyDocument=json.dumps(TRUST))
    lam.create_function(
        FunctionName=fn,
        Role=role["Role"]["Arn"],
        PackageType="Image",
        Code={"ImageUri": ecr_image(f"cdk/{fn}", "a")},
        Description=f"agentdock {fn} sha256:{'a' * 64}",
    )
    return lam


def cdk_style_function(client: Callable[[str], Any], ecr_image: Callable[[str, str], str], fn: str) -> Any:
    """What a CDK deploy leaves: an image function, versions 1 and 2 published, ``live`` -> 2."""
    lam = image_function(client, ecr_image, fn)
    lam.publish_version(FunctionName=fn, Description=f"agentdock {fn} sha256:{'a' * 64}")
    lam.update_function_code(FunctionName=fn, ImageUri=ecr_image(f"cdk/{fn}", "b"))
    lam.publish_version(FunctionName=fn, Description=f"agentdock {fn} sha256:{'b' * 64}")
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="2")
    return lam


def test_rollback_and_status_of_a_function_agentdock_did_not_deploy(
    aws: str,
    client: Callable[[str], Any],
    ecr_image: Callable[[str, str], str],
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AGENTDOCK_STORE", sqlite_url)
    fn = unique_name("cdk")
    lam = cdk_style_function(client, ecr_image, fn)
    flags = ("--target", "lambda", "--function", fn, "--actor", "ci")

    status = run("status", fn, *flags)
    assert status["live_version"] == 2
    d = status["details"]
    assert (d["function_name"], d["alias"], d["function_version"], d["drift"]) == (fn, "live", "2", False)
    assert {v["lambda_version"]: v["version"] for v in d["versions"]} == {"1": 1, "2": 2}

    moved = run("rollback", fn, "1", *flags)
    assert (moved["version"], moved["previous_version"], moved["status"]) == (1, 2, "live")
    assert lam.get_alias(FunctionName=fn, Name="live")["FunctionVersion"] == "1"

    # a later `cdk deploy` publishes version 3 and moves the alias: the next command sees it, and a
    # rollback with no version undoes exactly that deploy
    lam.update_function_code(FunctionName=fn, ImageUri=ecr_image(f"cdk/{fn}", "c"))
    lam.publish_version(FunctionName=fn, Description=f"agentdock {fn} sha256:{'c' * 64}")
    lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="3")
    back = run("rollback", fn, *flags)
    assert (back["version"], back["previous_version"]) == (1, 3)
    assert lam.get_alias(FunctionName=fn, Name="live")["FunctionVersion"] == "1"

    # CodeDeploy mid-shift: version 4 takes 10 % through the alias's routing weights; promote ends it
    lam.update_function_code(FunctionName=fn, ImageUri=ecr_image(f"cdk/{fn}", "d"))
    lam.publish_version(FunctionName=fn, Description=f"agentdock {fn} sha256:{'d' * 64}")
    lam.update_alias(
        FunctionName=fn,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"4": 0.1}},
    )
    shifting = run("status", fn, *flags)
    assert shifting["details"]["canary"] == {"version": 4, "weight": 0.1}
    promoted = run("promote", fn, *flags)
    assert promoted["version"] == 4
    alias = lam.get_alias(FunctionName=fn, Name="live")
    assert alias["FunctionVersion"] == "4" and not (alias.get("RoutingConfig") or {}).get(
        "AdditionalVersionWeights"
    )

    with open_store(sqlite_url) as store:
        actions = [(a.action, a.actor) for a in reversed(store.list_audit(fn))]
        assert actions == [
            ("adopt", "ci"),
            ("rollback", "ci"),
            ("sync", "ci"),
            ("rollback", "ci"),
            ("sync", "ci"),
            ("promote", "ci"),
        ]
        versions = {v.number: (v.label, v.content_hash, v.status) for v in store.list_versions(fn)}
        assert versions == {
            1: ("lambda:1", f"sha256:{'a' * 64}", "retired"),
            2: ("lambda:2", f"sha256:{'b' * 64}", "retired"),
            3: ("lambda:3", f"sha256:{'c' * 64}", "retired"),
            4: ("lambda:4", f"sha256:{'d' * 64}", "live"),
        }
        # the version's image as GetFunction reports it (moto answers with the function's newest code)
        assert all(
            f".dkr.ecr.us-east-1.amazonaws.com/cdk/{fn}:" in str(v.image) for v in store.list_versions(fn)
        )
        pointer = store.get_pointer(fn, "lambda")
        assert pointer is not None and pointer.details["lambda_versions"] == {
            "1": "1",
            "2": "2",
            "3": "3",
            "4": "4",
        }


def test_function_flag_errors_are_clear(
    aws: str,
    client: Callable[[str], Any],
    ecr_image: Callable[[str, str], str],
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENTDOCK_STORE", sqlite_url)
    usage = CliRunner().invoke(app, ["rollback", "x", "--target", "local", "--function", "x", "--json"])
    assert usage.exit_code == 2 and "--function applies to --target lambda only" in usage.output
    fn = unique_name("noalias")
    image_function(client, ecr_image, fn)
    missing = CliRunner().invoke(app, ["rollback", fn, "--target", "lambda", "--function", fn, "--json"])
    assert missing.exit_code != 0
    error = json.loads(missing.stdout)["error"]
    assert "has no alias 'live'" in error["message"] and error["path"] == "--function"
    assert error["name"] == "DeployError" and error["hint"]
