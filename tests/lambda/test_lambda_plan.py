"""Dry-run plans, the invoke-mode check, images (given, missing, built here), the model's env and
role, and moto's ECR-validated image mode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.base import Artifact
from agentdock.targets.lambda_ import LambdaTarget
from agentdock.targets.lambda_.iam import role_policy
from agentdock.targets.lambda_.model import dockerfile_env, resolve_model
from lambdahelpers import REGION, make_artifact, make_spec, unique_name

from agentdock.errors import DeployError, ImageNotFound, InvokeModeMismatch
from agentdock.store import MetadataStore

pytestmark = pytest.mark.integration


def world(client: Any, name: str) -> dict[str, Any]:
    """Everything a deploy of ``name`` could have created."""
    lam, iam, ecr = client("lambda"), client("iam"), client("ecr")
    functions = [f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"] == name]
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if name in r["RoleName"]]
    repos = [
        r["repositoryName"]
        for r in ecr.describe_repositories()["repositories"]
        if name in r["repositoryName"]
    ]
    state: dict[str, Any] = {"functions": functions, "roles": roles, "repos": repos}
    if functions:
        state["aliases"] = lam.list_aliases(FunctionName=name)["Aliases"]
        state["versions"] = [
            v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]
        ]
        config = lam.get_function_configuration(FunctionName=name)
        state["config"] = {k: v for k, v in config.items() if k != "ResponseMetadata"}
    return state


def test_dry_run_prints_calls_and_diff_and_changes_nothing(
    target: LambdaTarget, store: MetadataStore, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("dry")
    spec = make_spec(name, reserved_concurrency=1, env={"LOG_LEVEL": "info", "OLD": "1"})
    image = ecr_image(f"agentdock/{name}", "1")
    before = world(client, name)
    plan = target.plan(spec, make_artifact(tmp_path, "d1"), image_uri=image)
    printed = json.loads(json.dumps(plan.to_dict()))  # what `deploy --dry-run --json` prints
    calls = [f"{a['service']}.{a['call']}" for a in printed["actions"] if a["phase"] != "abort"]
    assert calls == [
        "agentdock.preflight",
        "agentdock.register_version",
        "iam.create_role",
        "iam.put_role_policy",
        "lambda.create_function",
        "waiter.function_active_v2",
        "lambda.put_function_concurrency",
        "lambda.publish_version",
        "waiter.published_version_active",
        "agentdock.verify_version",
        "lambda.create_alias",
        "lambda.create_function_url_config",
        "lambda.add_permission",
        "lambda.add_permission",
        "agentdock.record_deploy",
    ]
    alias = next(a for a in printed["actions"] if a["call"] == "create_alias")
    assert alias["params"]["FunctionVersion"] == "${ref:lambda_version}" and alias["phase"] == "switch"
    assert printed["diff"]["function"] == {"name": name, "change": "create", "invoke_mode": "RESPONSE_STREAM"}
    create = next(a for a in printed["actions"] if a["call"] == "create_function")
    assert {
        k: v for k, v in create["params"]["Environment"]["Variables"].items() if "AGENTDOCK" not in k
    } == {
        "LOG_LEVEL": "info",  # deploy.env, plain values shown in the plan
        "OLD": "1",
        "AWS_LWA_INVOKE_MODE": "response_stream",
    }
    assert printed["diff"]["version"]["store_version"] == 1
    assert world(client, name) == before and store.list_versions(name) == [] and store.list_audit(name) == []

    target.apply(plan)
    spec2 = make_spec(name, reserved_concurrency=1, memory_mb=512, env={"LOG_LEVEL": "debug", "NEW": "x"})
    before = world(client, name)
    plan2 = target.plan(spec2, make_artifact(tmp_path, "d2"), image_uri=ecr_image(f"agentdock/{name}", "2"))
    fields = plan2.diff["function"]["fields"]
    assert fields["MemorySize"] == [1024, 512]
    assert fields["Environment"] == {
        "added": ["NEW"],
        "removed": ["OLD"],
        "changed": ["AGENTDOCK_CONTENT_HASH", "AGENTDOCK_VERSION", "LOG_LEVEL"],
        "kept": [],
    }
    assert plan2.diff["alias"] == {
        "name": "live",
        "change": "move",
        "from": "1",
        "to": "${ref:lambda_version}",
    }
    assert world(client, name) == before and len(store.list_versions(name)) == 1


@pytest.mark.parametrize(
    ("streaming", "artifact_kwargs", "message"),
    [
        (
            "sse",
            {"streaming": True, "lwa_mode": "buffered"},
            "InvokeMode=RESPONSE_STREAM but the image runs BUFFERED",
        ),
        ("sse", {"streaming": False}, "sets no AWS_LWA_INVOKE_MODE"),
        ("none", {"streaming": True}, "InvokeMode=BUFFERED but the image runs RESPONSE_STREAM"),
        ("sse", {"streaming": True, "lwa_mode": "RESPONSE-STREAM"}, "silently fall back to buffered"),
    ],
)
def test_invoke_mode_mismatch_fails_the_plan(
    target: LambdaTarget, tmp_path: Path, streaming: str, artifact_kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvokeModeMismatch, match=message):
        target.plan(
            make_spec(unique_name(), streaming=streaming), make_artifact(tmp_path, "m", **artifact_kwargs)
        )


def test_buffered_flavour_gets_a_buffered_url(
    target: LambdaTarget, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("buf")
    artifact = make_artifact(tmp_path, "b1", streaming=False)
    result = target.apply(
        target.plan(
            make_spec(name, streaming="none"), artifact, image_uri=ecr_image(f"agentdock/{name}", "b")
        )
    )
    assert (
        client("lambda").get_function_url_config(FunctionName=name, Qualifier="live")["InvokeMode"]
        == "BUFFERED"
    )
    assert result.details["invoke_mode"] == "BUFFERED"
    # websocket cannot ride a function URL: buffered, with a warning
    model, warnings = resolve_model(
        make_spec(name, streaming="websocket"), artifact, region=REGION, store_url=None
    )
    assert model.invoke_mode.value == "BUFFERED" and "WebSockets" in warnings[0]
    # a context without a Dockerfile is judged by its flavour
    bare = Artifact(str(tmp_path / "empty"), "sha256:00", None, "knative")
    with pytest.raises(InvokeModeMismatch, match="not a Lambda flavour"):
        target.plan(make_spec(name), bare)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ghcr.io/acme/agent:1", "not an Amazon ECR image URI"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/agentdock/none:1", "does not exist in ECR"),
    ],
)
def test_image_uri_is_checked_before_any_change(
    target: LambdaTarget, tmp_path: Path, uri: str, message: str
) -> None:
    with pytest.raises(ImageNotFound, match=message):
        target.plan(make_spec(unique_name()), make_artifact(tmp_path, "i"), image_uri=uri)


def test_no_image_and_no_builder_says_what_to_do(target: LambdaTarget, tmp_path: Path) -> None:
    with pytest.raises(ImageNotFound) as err:
        target.plan(make_spec(unique_name()), make_artifact(tmp_path, "nb"))
    assert err.value.hint is not None and "--image-uri" in err.value.hint


FAKE_ENGINE = """#!/bin/sh
# A docker-compatible CLI double: records argv and stdin, succeeds.
printf '%s\\n' "$*" >> "{log}"
if [ "$1" = "login" ]; then cat > "{log}.stdin"; fi
exit 0
"""


def test_image_is_built_tagged_by_content_and_pushed_when_a_builder_exists(
    store: MetadataStore, aws: str, client: Any, tmp_path: Path, preflight: Any
) -> None:
    log = tmp_path / "engine.log"
    engine = tmp_path / "docker"
    engine.write_text(FAKE_ENGINE.format(log=log))
    engine.chmod(engine.stat().st_mode | stat.S_IEXEC)
    name = unique_name("build")
    target = LambdaTarget(store=store, builder=str(engine), preflight=preflight)
    artifact = make_artifact(tmp_path, "built")
    plan = target.plan(make_spec(name, architecture="x86_64"), artifact)
    tag = artifact.content_hash.split(":")[1][:24]
    assert plan.options["image_uri"] == f"123456789012.dkr.ecr.{REGION}.amazonaws.com/agentdock/{name}:{tag}"
    assert [c.call for c in plan.actions][:3] == ["preflight", "create_repository", "build_image"]
    target.apply(plan)
    lines = log.read_text().splitlines()
    assert lines[0] == f"build -t {plan.options['image_uri']} --platform linux/amd64 {artifact.context_dir}"
    assert lines[1].startswith("login --username AWS --password-stdin 123456789012.dkr.ecr.")
    assert lines[2] == f"push {plan.options['image_uri']}"
    password = (tmp_path / "engine.log.stdin").read_text()
    assert password and all(password not in line for line in lines)  # on stdin, never in argv
    repo = client("ecr").describe_repositories(repositoryNames=[f"agentdock/{name}"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert client("lambda").get_function(FunctionName=name)["Code"]["ImageUri"] == plan.options["image_uri"]


def test_moto_validating_images_needs_the_image_in_ecr(
    target: LambdaTarget, client: Any, ecr_image: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With MOTO_LAMBDA_STUB_ECR=false moto checks the image exists, like AWS. moto looks the image
    up by the last path segment of the repository only, so this case uses a flat repository name."""
    monkeypatch.setenv("MOTO_LAMBDA_STUB_ECR", "false")
    name = unique_name("ecr")
    image = ecr_image(f"flat{name}", "v1")
    spec = make_spec(name, ecr_repository=f"flat{name}")
    result = target.apply(target.plan(spec, make_artifact(tmp_path, "e1"), image_uri=image))
    code = client("lambda").get_function(FunctionName=name)["Code"]
    assert result.status == "live" and code["ImageUri"] == image and "@sha256:" in code["ResolvedImageUri"]


def test_environment_carries_references_and_the_role_reads_only_what_is_declared(
    target: LambdaTarget, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("env")
    secrets = {"JWT_SECRET": "aws-sm://prod/jwt", "DB_PASSWORD": "ssm:///prod/db#password", "LOCAL": "env"}
    spec = make_spec(name, store="dynamodb://agentdock-meta?region=us-east-1", secrets=secrets)
    # every reference needs a source on the target before the deploy changes anything
    _ensure_sources(client)
    target.settings["env"] = {"LOCAL": "from --env"}
    target.apply(
        target.plan(spec, make_artifact(tmp_path, "env"), image_uri=ecr_image(f"agentdock/{name}", "1"))
    )
    env = client("lambda").get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert env["AGENTDOCK_STORE"] == "dynamodb://agentdock-meta?region=us-east-1"
    assert json.loads(env["AGENTDOCK_SECRET_REFS"]) == secrets
    document = client("iam").get_role_policy(
        RoleName=f"agentdock-{name}", PolicyName="agentdock-least-privilege"
    )
    by_sid = {s["Sid"]: s for s in document["PolicyDocument"]["Statement"]}
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/agentdock-meta"
    assert by_sid["MetadataRead"]["Resource"] == [table, f"{table}/index/*"]
    assert not any(
        a.startswith("dynamodb:Put") or a.startswith("dynamodb:Delete")
        for a in by_sid["MetadataRead"]["Action"]
    )
    assert by_sid["SecretsRead"]["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/jwt-??????"
    ]
    assert by_sid["ParametersRead"]["Resource"] == ["arn:aws:ssm:us-east-1:123456789012:parameter/prod/db"]
    # the runtime writes rate-limit counters and key last-use, and nothing else
    writes = by_sid["MetadataRuntimeWrites"]
    assert writes["Action"] == ["dynamodb:UpdateItem"] and writes["Resource"] == [table]
    assert writes["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CTR#*", "KEY#*"]}}
    assert set(by_sid) == {
        "Logs",
        "LogEvents",
        "MetadataRead",
        "MetadataRuntimeWrites",
        "SecretsRead",
        "ParametersRead",
    }


def _ensure_sources(client: Any) -> None:
    sm, ssm = client("secretsmanager"), client("ssm")
    if not sm.list_secrets(Filters=[{"Key": "name", "Values": ["prod/jwt"]}])["SecretList"]:
        sm.create_secret(Name="prod/jwt", SecretString="x" * 32)
    ssm.put_parameter(Name="/prod/db", Value='{"password": "p"}', Type="SecureString", Overwrite=True)


def test_references_without_a_source_refuse_before_any_change(
    target: LambdaTarget, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("nosrc")
    secrets = {"JWT_SECRET": f"aws-sm://{name}/jwt", "DB_PASSWORD": f"ssm:///{name}/db", "LOCAL": "env"}
    spec = make_spec(name, secrets=secrets)
    with pytest.raises(DeployError) as err:
        target.plan(spec, make_artifact(tmp_path, "nosrc"), image_uri=ecr_image(f"agentdock/{name}", "1"))
    text = err.value.cause
    assert f"no secret '{name}/jwt' in Secrets Manager" in text
    assert f"no parameter '/{name}/db' in SSM Parameter Store" in text
    assert "LOCAL" not in text  # declared `env` but not referenced: a warning, as before
    functions = client("lambda").list_functions()["Functions"]
    assert name not in [f["FunctionName"] for f in functions]  # nothing was created


def test_push_secrets_creates_the_secret_from_env_values_and_never_plans_the_value(
    target: LambdaTarget, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("push")
    value = "pushed-" + name + "-value-0123456789"
    spec = make_spec(name, secrets={"JWT_SECRET": f"aws-sm://{name}/jwt"})
    target.settings["env"] = {"JWT_SECRET": value}
    plan = target.plan(
        spec,
        make_artifact(tmp_path, "push"),
        image_uri=ecr_image(f"agentdock/{name}", "1"),
        push_secrets=True,
    )
    assert plan.actions[0].call == "push_secrets" and plan.diff["secrets_pushed"] == [f"aws-sm://{name}/jwt"]
    assert value not in json.dumps(plan.to_dict(), default=str)
    target.apply(plan)
    got = client("secretsmanager").get_secret_value(SecretId=f"{name}/jwt")
    assert got["SecretString"] == value
    env = client("lambda").get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert value not in json.dumps(env)


def test_store_url_with_a_password_or_local_path_is_refused(tmp_path: Path) -> None:
    artifact = make_artifact(tmp_path, "s")
    with pytest.raises(DeployError, match="carries a password"):
        resolve_model(
            make_spec("agent-pw", store="postgresql://u:secret@db/x"), artifact, region=REGION, store_url=None
        )
    with pytest.raises(DeployError, match="cannot reach it"):
        resolve_model(
            make_spec("agent-sq", store="sqlite:///tmp/x.db"), artifact, region=REGION, store_url=None
        )
    model, _ = resolve_model(make_spec("agent-ok"), artifact, region=REGION, store_url="sqlite:///home/x.db")
    assert model.store_url is None and "AGENTDOCK_STORE" not in model.environment(1)
    policy = role_policy(model, "123456789012")
    assert [s["Sid"] for s in policy["Statement"]] == ["Logs", "LogEvents"]


def test_dockerfile_env_reads_the_final_stage_with_continuations() -> None:
    text = 'FROM a AS build\nENV AWS_LWA_INVOKE_MODE=buffered\nFROM b\nENV A=1 \\\n    B="two words"\nENV LEGACY value here\n'
    assert dockerfile_env(text) == {"A": "1", "B": "two words", "LEGACY": "value here"}


def test_no_region_anywhere_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="no AWS region"):
        resolve_model(make_spec("agent-nr"), make_artifact(tmp_path, "r"), region=None, store_url=None)
    assert os.environ.get("AWS_DEFAULT_REGION")  # the session's fake region (root conftest)


def test_env_secrets_set_on_the_function_are_kept_and_never_printed(
    target: LambdaTarget, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    """``deploy.secrets.X: env`` means the operator sets X on the function; a deploy keeps it, and
    its value never appears in the plan (it is read when the update runs)."""
    name = unique_name("keep")
    spec = make_spec(name, secrets={"JWT_SECRET": "env"})
    first = target.plan(spec, make_artifact(tmp_path, "k1"), image_uri=ecr_image(f"agentdock/{name}", "1"))
    assert any("JWT_SECRET" in w and "env" in w for w in first.options["warnings"])
    target.apply(first)
    lam = client("lambda")
    env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**env, "JWT_SECRET": "s3cr3t-value"}}
    )
    plan = target.plan(spec, make_artifact(tmp_path, "k2"), image_uri=ecr_image(f"agentdock/{name}", "2"))
    assert "s3cr3t-value" not in json.dumps(plan.to_dict())
    assert plan.diff["function"]["fields"]["Environment"]["kept"] == ["JWT_SECRET"]
    assert not any("JWT_SECRET" in w for w in plan.options["warnings"])
    target.apply(plan)
    live = lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    variables = lam.get_function_configuration(FunctionName=name, Qualifier=live)["Environment"]["Variables"]
    assert variables["JWT_SECRET"] == "s3cr3t-value" and variables["AGENTDOCK_VERSION"] == "2"


def test_threads_in_the_dynamodb_store_get_the_thread_item_grant_only(tmp_path: Path) -> None:
    """``state: {checkpointer: store}`` keeps LangGraph threads in the function's DynamoDB store:
    the created role may write ``THREAD#...`` items of that table, and only with threads on."""
    artifact, store = make_artifact(tmp_path, "t"), "dynamodb://agentdock-meta?region=us-east-1"
    spec = make_spec("agent-th", store=store)
    plain, _ = resolve_model(spec, artifact, region=REGION, store_url=None)
    assert "ThreadCheckpoints" not in {s["Sid"] for s in role_policy(plain, "123456789012")["Statement"]}
    threaded = spec.model_copy(update={"state": spec.state.model_copy(update={"checkpointer": "store"})})
    model, _ = resolve_model(threaded, artifact, region=REGION, store_url=None)
    by_sid = {s["Sid"]: s for s in role_policy(model, "123456789012")["Statement"]}
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/agentdock-meta"
    assert by_sid["ThreadCheckpoints"]["Resource"] == [table]
    assert by_sid["ThreadCheckpoints"]["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["THREAD#*"]}
    }
    assert "dynamodb:UpdateItem" not in by_sid["ThreadCheckpoints"]["Action"]
    same = threaded.model_copy(update={"state": threaded.state.model_copy(update={"url": store})})
    model, _ = resolve_model(same, artifact, region=REGION, store_url=None)
    assert "ThreadCheckpoints" in {s["Sid"] for s in role_policy(model, "123456789012")["Statement"]}
    other = threaded.model_copy(
        update={"state": threaded.state.model_copy(update={"url": "dynamodb://other?region=us-east-1"})}
    )
    model, _ = resolve_model(other, artifact, region=REGION, store_url=None)
    assert "ThreadCheckpoints" not in {s["Sid"] for s in role_policy(model, "123456789012")["Statement"]}
