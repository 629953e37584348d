"""Unit tier: the pure plan for states moto cannot produce, and the executor's own rules.

``build_plan`` is pure, so states moto cannot reach (provisioned concurrency, a Zip function with
the same name, a function someone else owns) are given as ``Observed`` values directly. The
executor is driven with a small client double that fails the way AWS fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.lambda_.execute import ABORT, FINISH, SWITCH, UNDO, Call, Executor, Ref, resolve
from agentdock.targets.lambda_.model import frozen_spec, resolve_model
from agentdock.targets.lambda_.observe import Observed
from agentdock.targets.lambda_.plan import MANAGED_TAG, Facts, build_plan
from lambdahelpers import REGION, make_artifact, make_spec

from agentdock.errors import CloudCallFailed, DeployConflict
from agentdock.spec.models import DockSpec

pytestmark = pytest.mark.unit
ACCOUNT = "123456789012"


def facts(**changes: Any) -> Facts:
    base: dict[str, Any] = {
        "version": 4,
        "reuse": False,
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/agentdock/x:4",
        "building": False,
        "image_exists": True,
        "gate": "none",
        "canary_weight": 0.0,
        "pointer_revision": 7,
        "live_version": 3,
        "live_lambda_version": "9",
        "context_dir": "/ctx",
    }
    return Facts(**{**base, **changes})


def existing(name: str, *, package: str = "Image", owner: str | None = None, **extra: Any) -> Observed:
    function = {
        "Configuration": {
            "PackageType": package,
            "Architectures": ["arm64"],
            "MemorySize": 1024,
            "Timeout": 60,
        },
        "Code": {"ImageUri": "old"},
        "Tags": {MANAGED_TAG: owner or name},
    }
    alias = {"FunctionVersion": "9", "RevisionId": "r-1", "RoutingConfig": {"AdditionalVersionWeights": {}}}
    url = {
        "FunctionUrl": "https://u.lambda-url.us-east-1.on.aws/",
        "AuthType": "NONE",
        "InvokeMode": "RESPONSE_STREAM",
    }
    sids = frozenset({"AgentDockFunctionUrlPublic", "AgentDockFunctionUrlInvoke"})
    return Observed(ACCOUNT, function=function, alias=alias, url=url, policy_sids=sids, **extra)


def model_for(tmp_path: Path, name: str, **deploy: Any) -> Any:
    model, _ = resolve_model(
        make_spec(name, **deploy), make_artifact(tmp_path, name), region=REGION, store_url=None
    )
    return model


def test_provisioned_concurrency_is_set_on_the_alias_after_the_switch(tmp_path: Path) -> None:
    model = model_for(tmp_path, "prov", provisioned_concurrency=2)
    calls, diff = build_plan(model, existing("prov", provisioned=None), facts())
    put = [c for c in calls if c.call == "put_provisioned_concurrency_config"]
    assert len(put) == 1 and put[0].phase == FINISH
    assert put[0].params == {
        "FunctionName": "prov",
        "Qualifier": "live",
        "ProvisionedConcurrentExecutions": 2,
    }
    assert diff["provisioned_concurrency"] == [None, 2]


def test_iam_url_auth_removes_public_access_and_undoes_url_changes(tmp_path: Path) -> None:
    model = model_for(tmp_path, "iamurl", url_auth="aws_iam")
    calls, diff = build_plan(model, existing("iamurl"), facts())
    removed = [c.params["StatementId"] for c in calls if c.call == "remove_permission"]
    assert removed == ["AgentDockFunctionUrlPublic", "AgentDockFunctionUrlInvoke"]
    url = [c for c in calls if c.call == "update_function_url_config"]
    assert [(c.phase, c.params["AuthType"]) for c in url] == [(FINISH, "AWS_IAM"), (UNDO, "NONE")]
    assert diff["url"]["fields"]["AuthType"] == ["NONE", "AWS_IAM"]


def test_canary_switch_keeps_live_and_weights_the_new_version(tmp_path: Path) -> None:
    calls, diff = build_plan(model_for(tmp_path, "can"), existing("can"), facts(canary_weight=0.1))
    switch = next(c for c in calls if c.phase == SWITCH)
    assert switch.params["FunctionVersion"] == "9" and switch.params["RevisionId"] == "r-1"
    weights = switch.params["RoutingConfig"]["AdditionalVersionWeights"]
    assert weights == {Ref("lambda_version"): 0.1}
    assert resolve(switch.params, {"lambda_version": "10"})["RoutingConfig"] == {
        "AdditionalVersionWeights": {"10": 0.1}
    }
    undo = next(c for c in calls if c.phase == UNDO and c.call == "update_alias")
    assert undo.params["FunctionVersion"] == "9" and diff["alias"]["change"] == "canary"
    assert [c.phase for c in calls][-1] == ABORT


def test_refuses_a_function_it_does_not_own_or_a_zip_function(tmp_path: Path) -> None:
    with pytest.raises(DeployConflict, match="not managed by AgentDock"):
        build_plan(model_for(tmp_path, "own"), existing("own", owner="someone-else"), facts())
    assert build_plan(model_for(tmp_path, "own"), existing("own", owner="x"), facts(force=True))[0]
    with pytest.raises(DeployConflict, match="Lambda cannot change a function's package type"):
        build_plan(model_for(tmp_path, "zip"), existing("zip", package="Zip"), facts())


class FakeAwsError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


class FlakyClient:
    """Fails ``create_function`` while a new role propagates, then answers; ``add_permission`` conflicts."""

    def __init__(self, role_failures: int) -> None:
        self.role_failures, self.calls = role_failures, 0

    def create_function(self, **_params: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.role_failures:
            raise FakeAwsError(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            )
        return {"FunctionArn": "arn"}

    def add_permission(self, **_params: Any) -> dict[str, Any]:
        raise FakeAwsError("ResourceConflictException", "The statement id (x) provided already exists.")


class FakeAws:
    def __init__(self, client: FlakyClient) -> None:
        self._client = client

    def client(self, _service: str) -> FlakyClient:
        return self._client


def test_executor_retries_role_propagation_and_takes_ok_errors_as_done() -> None:
    client = FlakyClient(role_failures=2)
    slept: list[float] = []
    executor = Executor(FakeAws(client), {}, sleep=slept.append)
    conflict = ("ResourceConflictException",)
    executor.execute(
        [Call("lambda", "create_function", {}), Call("lambda", "add_permission", {}, ok_errors=conflict)]
    )
    assert client.calls == 3 and slept == [2.0, 4.0]

    bounded = Executor(FakeAws(FlakyClient(role_failures=99)), {}, role_retries=2, sleep=lambda _s: None)
    with pytest.raises(CloudCallFailed, match="cannot be assumed") as err:
        bounded.execute([Call("lambda", "create_function", {})])
    assert err.value.path == "lambda.CreateFunction"


def test_unbound_reference_is_a_plan_error() -> None:
    executor = Executor(FakeAws(FlakyClient(0)), {"echo": lambda p: p})
    with pytest.raises(Exception, match=r"\$\{ref:nothing\} is used before any call bound it"):
        executor.execute([Call("agentdock", "echo", {"x": Ref("nothing")})])


def test_version_snapshot_without_a_frozen_spec_never_holds_a_secret(tmp_path: Path) -> None:
    data = make_spec("snap").dump()
    data["auth"] = {"mode": "jwt", "jwt": {"secret_key": "resolved-secret-value-123"}}
    data["observability"] = {"langfuse": {"public_key": "pk-live-1", "secret_key": "sk-live-1"}}
    snapshot = frozen_spec(make_artifact(tmp_path, "snap"), DockSpec.model_validate(data))
    assert snapshot["auth"]["jwt"]["secret_key"] == "${REDACTED}"
    assert snapshot["observability"]["langfuse"] == {"public_key": "${REDACTED}", "secret_key": "${REDACTED}"}
