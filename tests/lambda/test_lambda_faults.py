"""A fault at each step of a deploy leaves the previous version live; a re-run converges.

Each case deploys v1, then deploys v2 (new image, memory, reserved concurrency and CORS, so every
kind of call happens) with a botocore ``before-call.lambda.<Operation>`` hook that raises for that
one operation. The deploy must fail with a user-facing error, the ``live`` alias and the store
pointer must still be on v1, v2 must be marked failed and the failure audited. Then the same
deploy runs again without the fault and must converge: alias, URL, concurrency and store on v2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.lambda_ import LambdaTarget
from lambdahelpers import FakePreflight, FaultInjector, make_artifact, make_spec, unique_name

from agentdock.errors import AgentDockError, DeployConflict, HealthGateFailed
from agentdock.store import MetadataStore

pytestmark = pytest.mark.integration

# (operation, phase, the error's path) in the order the v2 deploy calls them
OPERATIONS = [
    ("UpdateFunctionCode", "prepare", "lambda.UpdateFunctionCode"),
    ("GetFunction", "prepare", "lambda.function_updated_v2"),  # the waiter after an update
    ("UpdateFunctionConfiguration", "prepare", "lambda.UpdateFunctionConfiguration"),
    ("PutFunctionConcurrency", "prepare", "lambda.PutFunctionConcurrency"),
    ("PublishVersion", "prepare", "lambda.PublishVersion"),
    ("GetFunctionConfiguration", "prepare", "lambda.published_version_active"),  # the waiter
    ("UpdateAlias", "switch", "lambda.UpdateAlias"),
    ("UpdateFunctionUrlConfig", "finish", "lambda.UpdateFunctionUrlConfig"),  # after the switch: undo
]


def v1_then_v2(target: LambdaTarget, ecr_image: Any, tmp_path: Path) -> tuple[str, Any, Any, str]:
    name = unique_name("fault")
    v1 = make_spec(name, memory_mb=1024, reserved_concurrency=2, cors=["https://one.example"])
    target.apply(
        target.plan(v1, make_artifact(tmp_path, f"{name}-1"), image_uri=ecr_image(f"agentdock/{name}", "1"))
    )
    v2 = make_spec(name, memory_mb=2048, reserved_concurrency=4, cors=["https://two.example"])
    return name, v2, make_artifact(tmp_path, f"{name}-2"), ecr_image(f"agentdock/{name}", "2")


def assert_still_on_v1(name: str, client: Any, store: MetadataStore) -> None:
    lam = client("lambda")
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    cors = lam.get_function_url_config(FunctionName=name, Qualifier="live")["Cors"]
    assert cors["AllowOrigins"] == ["https://one.example"]
    pointer = store.get_pointer(name, "lambda")
    assert pointer is not None and pointer.live_version == 1
    assert store.get_version(name, 1).status == "live"


def assert_converged_on_v2(name: str, client: Any, store: MetadataStore) -> None:
    lam = client("lambda")
    live = lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    config = lam.get_function_configuration(FunctionName=name, Qualifier=live)
    assert config["Environment"]["Variables"]["AGENTDOCK_VERSION"] == "2"
    assert config["MemorySize"] == 2048 and config["Description"].startswith("agentdock v2 ")
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 4
    cors = lam.get_function_url_config(FunctionName=name, Qualifier="live")["Cors"]
    assert cors["AllowOrigins"] == ["https://two.example"]
    pointer = store.get_pointer(name, "lambda")
    assert pointer is not None and (pointer.live_version, pointer.previous_version) == (2, 1)
    assert pointer.details["lambda_versions"]["2"] == live
    assert store.get_version(name, 2).status == "live" and store.get_version(name, 1).status == "retired"


@pytest.mark.parametrize(("operation", "phase", "path"), OPERATIONS, ids=[op for op, _, _ in OPERATIONS])
def test_fault_at_each_step_keeps_v1_live_and_a_rerun_converges(
    operation: str,
    phase: str,
    path: str,
    target: LambdaTarget,
    store: MetadataStore,
    client: Any,
    ecr_image: Any,
    tmp_path: Path,
) -> None:
    name, spec, artifact, image = v1_then_v2(target, ecr_image, tmp_path)
    plan = target.plan(spec, artifact, image_uri=image)
    with FaultInjector(target, operation) as fault, pytest.raises(AgentDockError) as failed:
        target.apply(plan)
    assert fault.fired == 1, f"the v2 deploy never called {operation}"
    assert "injected fault" in failed.value.cause and failed.value.path == path
    assert_still_on_v1(name, client, store)
    assert store.get_version(name, 2).status == "failed"
    audit = store.list_audit(name)[0]
    assert audit.action == "deploy_failed" and audit.details["version"] == 2
    assert audit.details["undone"] is (phase == "finish")

    rerun = target.apply(target.plan(spec, artifact, image_uri=image))
    assert (rerun.status, rerun.version) == ("live", 2)
    assert_converged_on_v2(name, client, store)


def test_a_store_conflict_after_the_switch_moves_live_back(
    target: LambdaTarget, store: MetadataStore, client: Any, ecr_image: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Another writer moves the store pointer while the deploy runs: the CAS fails after the alias
    moved, so the alias is moved back and the deploy reports a conflict."""
    name, spec, artifact, image = v1_then_v2(target, ecr_image, tmp_path)
    plan = target.plan(spec, artifact, image_uri=image)
    real_move = store.move_pointer

    def racing_move(agent: str, tgt: str, alias: str, *, expected_revision: int | None, **fields: Any) -> Any:
        monkeypatch.setattr(store, "move_pointer", real_move)
        real_move(
            agent,
            tgt,
            alias,
            expected_revision=expected_revision,
            details={"function_name": name, **fields["details"]},
        )
        return real_move(agent, tgt, alias, expected_revision=expected_revision, **fields)

    monkeypatch.setattr(store, "move_pointer", racing_move)
    with pytest.raises(DeployConflict, match="moved this agent's pointer"):
        target.apply(plan)
    assert client("lambda").get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    assert store.list_audit(name)[0].details["undone"] is True
    target.apply(target.plan(spec, artifact, image_uri=image))
    assert_converged_on_v2(name, client, store)


def test_a_failed_preflight_changes_nothing_in_the_cloud(
    store: MetadataStore, aws: str, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("pre")
    target = LambdaTarget(store=store, preflight=FakePreflight(fail=True), builder=False)
    plan = target.plan(
        make_spec(name), make_artifact(tmp_path, name), image_uri=ecr_image(f"agentdock/{name}", "1")
    )
    assert plan.actions[0].call == "preflight"
    with pytest.raises(HealthGateFailed, match="answered 500"):
        target.apply(plan)
    with pytest.raises(client("lambda").exceptions.ResourceNotFoundException):
        client("lambda").get_function(FunctionName=name)
    with pytest.raises(client("iam").exceptions.NoSuchEntityException):
        client("iam").get_role(RoleName=f"agentdock-{name}")
    assert store.list_versions(name) == [] and store.list_audit(name)[0].action == "deploy_failed"


def test_a_plan_is_refused_when_the_pointer_moved_after_it_was_made(
    target: LambdaTarget, store: MetadataStore, ecr_image: Any, tmp_path: Path
) -> None:
    name, spec, artifact, image = v1_then_v2(target, ecr_image, tmp_path)
    stale = target.plan(spec, artifact, image_uri=image)
    target.apply(target.plan(spec, artifact, image_uri=image))
    with pytest.raises(DeployConflict, match="moved since this plan was made"):
        target.apply(stale)
