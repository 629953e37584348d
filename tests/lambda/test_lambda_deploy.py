"""Deploy, redeploy, rollback, canary/promote and status against a moto server over HTTP.

Where moto differs from AWS, the test says so and checks what can be checked:
* moto cannot invoke image functions and serves no function URLs, so the health gate here is the
  local preflight (a recorded double in this file; the real one in the build integration test);
* moto ignores the ``Qualifier`` of function-URL calls (one URL config per function) and ignores
  an ``InvokeMode`` change on an existing URL;
* moto has no provisioned concurrency API (it answers 404), so no test here sets it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.lambda_ import LambdaTarget
from lambdahelpers import FakePreflight, make_artifact, make_spec, unique_name

from agentdock.errors import DeployConflict, DeployError
from agentdock.store import MetadataStore

pytestmark = pytest.mark.integration


def deploy(target: LambdaTarget, spec: Any, artifact: Any, **options: Any) -> Any:
    return target.apply(target.plan(spec, artifact, **options))


def alias_of(client: Any, fn: str) -> dict[str, Any]:
    return client("lambda").get_alias(FunctionName=fn, Name="live")


def test_full_deploy_creates_image_function_version_alias_and_streaming_url(
    target: LambdaTarget,
    store: MetadataStore,
    client: Any,
    ecr_image: Any,
    tmp_path: Path,
    preflight: FakePreflight,
) -> None:
    name = unique_name()
    spec = make_spec(
        name,
        cors=["https://app.example.com"],
        reserved_concurrency=5,
        memory_mb=2048,
        timeout_s=120,
        env={"LOG_LEVEL": "debug", "FEATURE_FLAGS": "a,b"},
    )
    artifact = make_artifact(tmp_path, "v1")
    image = ecr_image(f"agentdock/{name}", "v1")

    plan = target.plan(spec, artifact, image_uri=image)
    assert plan.options["invoke_mode"] == "RESPONSE_STREAM" and plan.options["health_gate"] == "preflight"
    result = target.apply(plan)

    assert (result.status, result.version, result.previous_version) == ("live", 1, None)
    assert result.url and result.url.startswith("https://") and ".lambda-url.us-east-1." in result.url
    assert preflight.calls == [Path(artifact.context_dir)]
    lam = client("lambda")
    got = lam.get_function(FunctionName=name)
    config = got["Configuration"]
    assert config["PackageType"] == "Image" and got["Code"]["ImageUri"] == image
    assert (config["MemorySize"], config["Timeout"], config["Architectures"]) == (2048, 120, ["arm64"])
    assert config["Environment"]["Variables"] == {
        "LOG_LEVEL": "debug",  # deploy.env
        "FEATURE_FLAGS": "a,b",
        "AGENTDOCK_VERSION": "1",
        "AGENTDOCK_CONTENT_HASH": artifact.content_hash,
        "AWS_LWA_INVOKE_MODE": "response_stream",
    }
    assert got["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    versions = {
        v["Version"]: v["Description"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]
    }
    assert versions["1"] == f"agentdock v1 {artifact.content_hash}"
    assert alias_of(client, name)["FunctionVersion"] == "1"
    url = lam.get_function_url_config(FunctionName=name, Qualifier="live")
    assert (url["InvokeMode"], url["AuthType"], url["FunctionUrl"]) == ("RESPONSE_STREAM", "NONE", result.url)
    assert url["Cors"]["AllowOrigins"] == ["https://app.example.com"]
    # the URL answers preflights itself: a browser must be allowed to rejoin a stream and to read
    # where a LangGraph run lives, as with the runtime's own CORS
    assert "last-event-id" in url["Cors"]["AllowHeaders"]
    assert {"location", "content-location", "x-trace-id"} <= set(url["Cors"]["ExposeHeaders"])
    statements = json.loads(lam.get_policy(FunctionName=name, Qualifier="live")["Policy"])["Statement"]
    public = {s["Sid"]: s for s in statements}
    assert public["AgentDockFunctionUrlPublic"]["Action"] == "lambda:InvokeFunctionUrl"
    assert public["AgentDockFunctionUrlPublic"]["FunctionUrlAuthType"] == "NONE"
    assert public["AgentDockFunctionUrlPublic"]["Principal"] == "*"
    assert public["AgentDockFunctionUrlInvoke"]["Action"] == "lambda:InvokeFunction"
    # the created execution role: logs only (no cloud store, no secrets declared)
    role = client("iam").get_role_policy(RoleName=f"agentdock-{name}", PolicyName="agentdock-least-privilege")
    assert [s["Sid"] for s in role["PolicyDocument"]["Statement"]] == ["Logs", "LogEvents"]
    assert config["Role"].endswith(f":role/agentdock-{name}")
    # the store: version, pointer with the version mapping, audit
    pointer = store.get_pointer(name, "lambda")
    assert pointer is not None and (pointer.live_version, pointer.status, pointer.url) == (
        1,
        "live",
        result.url,
    )
    assert pointer.details["lambda_versions"] == {"1": "1"} and pointer.details["function_name"] == name
    assert store.get_version(name, 1).status == "live" and store.get_version(name, 1).image == image
    assert [a.action for a in store.list_audit(name)] == ["deploy"]
    assert "the function gets no metadata store" in plan.options["warnings"][0]


def test_second_deploy_moves_alias_then_rollback_moves_it_back(
    target: LambdaTarget, store: MetadataStore, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name()
    spec = make_spec(name)
    first = deploy(
        target, spec, make_artifact(tmp_path, "one"), image_uri=ecr_image(f"agentdock/{name}", "one")
    )
    second = deploy(
        target, spec, make_artifact(tmp_path, "two"), image_uri=ecr_image(f"agentdock/{name}", "two")
    )
    assert (first.version, second.version, second.previous_version) == (1, 2, 1)
    assert alias_of(client, name)["FunctionVersion"] == "2"
    assert store.get_version(name, 1).status == "retired" and store.get_version(name, 2).status == "live"

    back = target.rollback(name)
    assert (back.version, back.previous_version, back.status) == (1, 2, "live")
    assert alias_of(client, name)["FunctionVersion"] == "1"
    pointer = store.get_pointer(name, "lambda")
    assert pointer is not None and (pointer.live_version, pointer.previous_version) == (1, 2)
    assert store.list_audit(name)[0].action == "rollback" and store.list_audit(name)[0].details["to"] == 1

    forward = target.rollback(name, 2)
    assert forward.version == 2 and alias_of(client, name)["FunctionVersion"] == "2"
    assert target.rollback(name, 2).status == "unchanged"
    with pytest.raises(DeployError, match="has no version 9"):
        target.rollback(name, 9)


def test_redeploying_live_content_is_unchanged_and_makes_no_call(
    target: LambdaTarget, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name()
    spec, artifact = make_spec(name), make_artifact(tmp_path, "same")
    image = ecr_image(f"agentdock/{name}", "same")
    deploy(target, spec, artifact, image_uri=image)
    plan = target.plan(spec, artifact, image_uri=image)
    assert plan.actions == () and plan.diff["unchanged"] is True
    assert target.apply(plan).status == "unchanged"
    forced = deploy(target, spec, artifact, image_uri=image, force=True)
    assert (forced.status, forced.version) == ("live", 2)
    assert alias_of(client, name)["FunctionVersion"] == "2"


def test_canary_weights_then_promote(
    target: LambdaTarget, store: MetadataStore, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name()
    spec = make_spec(name)
    deploy(target, spec, make_artifact(tmp_path, "c1"), image_uri=ecr_image(f"agentdock/{name}", "c1"))
    canary = deploy(
        target, spec, make_artifact(tmp_path, "c2"), image_uri=ecr_image(f"agentdock/{name}", "c2"), canary=10
    )
    assert canary.status == "canary"
    assert canary.previous_version == 1  # the version keeping the rest of the traffic (issue 17)
    alias = alias_of(client, name)
    assert alias["FunctionVersion"] == "1" and alias["RoutingConfig"] == {
        "AdditionalVersionWeights": {"2": 0.1}
    }
    pointer = store.get_pointer(name, "lambda")
    assert pointer is not None and (pointer.live_version, pointer.canary_version, pointer.canary_weight) == (
        1,
        2,
        0.1,
    )
    status = target.status(name)
    assert status.details["weights"] == {"2": 0.1} and status.details["canary"] == {
        "version": 2,
        "weight": 0.1,
    }
    assert status.details["drift"] is False

    with pytest.raises(DeployConflict, match="canary of version 2 is in progress"):
        target.plan(spec, make_artifact(tmp_path, "c3"), image_uri=ecr_image(f"agentdock/{name}", "c3"))

    promoted = target.promote(name)
    assert (promoted.version, promoted.previous_version) == (2, 1)
    alias = alias_of(client, name)
    assert alias["FunctionVersion"] == "2" and not alias["RoutingConfig"]["AdditionalVersionWeights"]
    pointer = store.get_pointer(name, "lambda")
    assert pointer is not None and (pointer.live_version, pointer.canary_version) == (2, None)
    with pytest.raises(DeployError, match="no canary in progress"):
        target.promote(name)


def test_rollback_abandons_a_canary(
    target: LambdaTarget, store: MetadataStore, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name()
    spec = make_spec(name)
    deploy(target, spec, make_artifact(tmp_path, "a1"), image_uri=ecr_image(f"agentdock/{name}", "a1"))
    deploy(
        target, spec, make_artifact(tmp_path, "a2"), image_uri=ecr_image(f"agentdock/{name}", "a2"), canary=25
    )
    result = target.rollback(name)
    assert result.version == 1 and result.details["abandoned_canary"] == 2
    alias = alias_of(client, name)
    assert alias["FunctionVersion"] == "1" and not alias["RoutingConfig"]["AdditionalVersionWeights"]
    assert store.get_version(name, 2).status == "retired"


def test_status_reports_alias_url_invoke_mode_versions_and_last_deploy(
    target: LambdaTarget, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name()
    assert target.status(name).details == {"deployed": False}
    spec = make_spec(name, streaming="none", reserved_concurrency=3)
    result = deploy(
        target,
        spec,
        make_artifact(tmp_path, "s1", streaming=False),
        image_uri=ecr_image(f"agentdock/{name}", "s1"),
    )
    status = target.status(name)
    assert (status.live_version, status.url, status.healthy) == (1, result.url, True)
    d = status.details
    assert (d["alias"], d["function_version"], d["invoke_mode"], d["auth_type"]) == (
        "live",
        "1",
        "BUFFERED",
        "NONE",
    )
    assert d["reserved_concurrency"] == 3 and d["weights"] == {}
    assert d["versions"][0]["lambda_version"] == "1" and d["versions"][0]["version"] == 1
    assert d["last_deploy"]["action"] == "deploy" and d["last_deploy"]["version"] == 1
    assert status.history[0]["status"] == "live"
    json.dumps(status.to_dict())  # --json prints it


def test_destroy_removes_function_role_and_pointer(
    target: LambdaTarget, store: MetadataStore, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name()
    deploy(
        target, make_spec(name), make_artifact(tmp_path, "d1"), image_uri=ecr_image(f"agentdock/{name}", "d1")
    )
    target.destroy(name)
    with pytest.raises(client("lambda").exceptions.ResourceNotFoundException):
        client("lambda").get_function(FunctionName=name)
    with pytest.raises(client("iam").exceptions.NoSuchEntityException):
        client("iam").get_role(RoleName=f"agentdock-{name}")
    assert store.get_pointer(name, "lambda") is None and store.list_audit(name)[0].action == "destroy"
    target.destroy(name)  # idempotent


def test_given_role_is_used_and_no_role_is_created(
    store: MetadataStore, aws: str, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name()
    iam = client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    arn = iam.create_role(RoleName=f"ci-{name}", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    target = LambdaTarget(store=store, actor="ci", builder=False)
    result = deploy(
        target,
        make_spec(name, role_arn=arn),
        make_artifact(tmp_path, "r1"),
        image_uri=ecr_image(f"agentdock/{name}", "r1"),
        health_gate="none",
    )
    assert client("lambda").get_function(FunctionName=name)["Configuration"]["Role"] == arn
    assert not any(call.startswith("iam.") for call in result.details["calls"])
    audit = store.list_audit(name)
    assert [a.action for a in audit] == ["deploy", "health_gate_skipped"] and audit[0].details[
        "health_gate"
    ] == "none"


def test_region_from_the_dockfile_wins_over_the_aws_chain(
    target: LambdaTarget, ecr_image: Any, tmp_path: Path
) -> None:
    """The chain says us-east-1 (where the image is); deploy.lambda.region says eu-west-1."""
    name = unique_name()
    with pytest.raises(DeployError, match="is in us-east-1 but the function is in eu-west-1"):
        target.plan(
            make_spec(name, region="eu-west-1"),
            make_artifact(tmp_path, "eu"),
            image_uri=ecr_image(f"agentdock/{name}", "eu"),
        )
