"""agentdock.testing: RecordingTarget (on the real release core) driven through the deploy
service (agentdock.ops.manage), and FakeAwsClients as the typed AWS seam of the Lambda target."""

from __future__ import annotations

from typing import Any

import pytest
from agentdock.targets.base import SupportsCanary, SupportsLogs, Target
from agentdock.targets.lambda_ import LambdaTarget
from agentdock.targets.lambda_.execute import Call, Executor

from agentdock.artifact import Artifact
from agentdock.errors import CapabilityMissing, HealthGateFailed
from agentdock.ops import manage
from agentdock.spec.models import DockSpec
from agentdock.store.memory import MemoryStore
from agentdock.testing.aws import FakeAwsClients
from agentdock.testing.recording import RecordingTarget

pytestmark = pytest.mark.unit

SPEC = DockSpec.model_validate(
    {
        "version": "1.0",
        "agent": {"name": "rec", "entrypoint": "agent:build", "framework": "langgraph"},
        "model": {"provider": "openai", "name": "gpt-4o-mini"},
        "io_schema": {"input": {"type": "object"}, "output": {"type": "object"}},
        "auth": {"mode": "api_key"},
    }
)


def _artifact(content: str) -> Artifact:
    return Artifact(context_dir="/nowhere", content_hash=content)


def test_recording_target_records_and_keeps_real_release_bookkeeping() -> None:
    target = RecordingTarget(store=MemoryStore(), actor="ci")
    assert isinstance(target, Target) and isinstance(target, SupportsCanary)
    assert not isinstance(target, SupportsLogs)
    first = target.apply(target.plan(SPEC, _artifact("a")))
    second = target.apply(target.plan(SPEC, _artifact("b"), canary=25, force=True))
    assert (first.status, second.status) == ("live", "canary")
    assert target.traffic["rec"] == {"h2": 0.25, "h1": 0.75}
    assert target.applied[1].options["canary"] == 0.25
    assert dict(target.applied[1].options["asked"]) == {"canary": 25, "force": True}
    assert target.plans[1].to_dict()["options"]["force"] is True  # what --dry-run --json prints

    promoted = manage.promote(target, "rec")
    assert promoted.version == 2 and target.traffic["rec"] == {"h2": 1.0} and target.promotions == ["rec"]
    back = manage.rollback(target, "rec")
    assert (back.version, back.previous_version) == (1, 2) and target.rollbacks == [("rec", None)]
    status = manage.status(target, "rec")
    assert status.live_version == 1 and [h["status"] for h in status.history] == ["live", "retired"]
    assert status.details["last"]["action"] == "rollback"
    with pytest.raises(CapabilityMissing, match="does not serve logs"):
        manage.logs(target, "rec")


def test_recording_target_failed_gate_marks_the_version_failed() -> None:
    target = RecordingTarget(healthy=False)
    with pytest.raises(HealthGateFailed):
        target.apply(target.plan(SPEC, _artifact("a")))
    assert [v.status for v in target.store.list_versions("rec")] == ["failed"]
    assert target.release.pointer("rec") is None


class _Lambda:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def tag_resource(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        return {"ok": True}


def test_fake_aws_clients_is_the_typed_seam() -> None:
    fake = FakeAwsClients({"lambda": _Lambda()})
    executor = Executor(fake, {})  # type-checks without an ignore: FakeAwsClients is an AwsApi
    executor.execute([Call("lambda", "tag_resource", {"Resource": "arn"})])
    assert fake.lambda_.calls == [{"Resource": "arn"}] and executor.log == ["lambda.tag_resource"]
    target = LambdaTarget(store=MemoryStore(), aws_factory=lambda region: fake)
    assert target.aws("eu-west-1") is fake
    with pytest.raises(KeyError, match="no 'ecr' client"):
        fake.client("ecr")
