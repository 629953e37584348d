"""The Knative target end to end, through the real ``kubernetes`` client against the API stand-in
(kubeconfig on disk, HTTP on 127.0.0.1) and a real SQLite store: deploy v1, v2 as a 20 % canary,
promote, rollback; a fault at each step (create, wait, gate, traffic patch) leaves the previous
traffic in place and marks the version failed, and a re-run converges."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.base import Artifact
from agentdock.targets.knative import KnativeTarget
from knhelpers import IMAGE, example
from standin import KREV, KSVC, KubeStandIn

from agentdock.build.flavours import SPEC_FILE
from agentdock.errors import ClusterCallFailed, DeployError, HealthGateFailed, RevisionFailed, SecretMissing
from agentdock.store import MetadataStore, open_store

pytestmark = pytest.mark.integration
AGENT, SVC, NS = "invoice_copilot", "invoice-copilot", "agents"
SECRET_KEYS = ("JWT_SECRET", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")


@pytest.fixture
def store(sqlite_url: str) -> Iterator[MetadataStore]:
    with open_store(sqlite_url) as opened:
        yield opened


@pytest.fixture
def target(store: MetadataStore, kubeconfig: Path, standin: KubeStandIn) -> KnativeTarget:
    standin.put_secret(NS, f"{SVC}-env", {k: "not-a-real-value" for k in SECRET_KEYS})
    return KnativeTarget(
        store=store,
        kubeconfig=str(kubeconfig),
        context="standin",
        actor="tester",
        wait_timeout_s=5,
        gate_timeout_s=1.5,
    )


def artifact(tmp_path: Path, n: int) -> Artifact:
    """A build context as deploy leaves it (the frozen spec is what the target reads)."""
    folder = tmp_path / f"ctx{n}"
    (folder / SPEC_FILE).parent.mkdir(parents=True, exist_ok=True)
    (folder / SPEC_FILE).write_text(json.dumps(example().raw), encoding="utf-8")
    return Artifact(str(folder), "sha256:" + f"{n:02d}" * 32, None, "knative")


def deploy(target: KnativeTarget, tmp_path: Path, n: int, **options: Any) -> Any:
    plan = target.plan(example().spec, artifact(tmp_path, n), image_uri=f"{IMAGE}-{n}", **options)
    return target.apply(plan)


def traffic(standin: KubeStandIn) -> list[tuple[str, int, str]]:
    svc = standin.get(KSVC, NS, SVC)
    return [
        (t["revisionName"], t["percent"], t["tag"]) for t in (svc or {}).get("spec", {}).get("traffic", [])
    ]


def test_v1_v2_canary_promote_rollback(
    target: KnativeTarget, standin: KubeStandIn, tmp_path: Path, store: MetadataStore
) -> None:
    first = deploy(target, tmp_path, 1)
    assert (first.version, first.status, first.url) == (1, "live", f"{standin.url}/_route/{NS}/{SVC}")
    assert traffic(standin) == [(f"{SVC}-v1", 100, "live"), (f"{SVC}-v1", 0, "v1")]
    status = target.status(AGENT)
    assert status.live_version == 1 and status.healthy is True
    assert [t["tag"] for t in status.details["traffic"]] == ["live", "v1"]

    canary = deploy(target, tmp_path, 2, canary=20)
    assert canary.status == "canary"
    assert traffic(standin) == [
        (f"{SVC}-v1", 80, "live"),
        (f"{SVC}-v2", 20, "candidate"),
        (f"{SVC}-v1", 0, "v1"),
        (f"{SVC}-v2", 0, "v2"),
    ]
    assert target.status(AGENT).details["canary"] == {"version": 2, "percent": 20}

    promoted = target.promote(AGENT)
    assert promoted.version == 2
    assert traffic(standin) == [(f"{SVC}-v2", 100, "live"), (f"{SVC}-v1", 0, "v1"), (f"{SVC}-v2", 0, "v2")]

    revisions_before = len([k for k in standin.state.objects if k[:2] == KREV])
    back = target.rollback(AGENT)
    assert (back.version, back.previous_version) == (1, 2)
    assert traffic(standin)[0] == (f"{SVC}-v1", 100, "live")
    assert len([k for k in standin.state.objects if k[:2] == KREV]) == revisions_before  # no new revision
    assert standin.get(KSVC, NS, SVC)["spec"]["template"]["metadata"]["name"] == f"{SVC}-v2"  # no rebuild
    target.rollback(AGENT, 2)
    assert traffic(standin)[0] == (f"{SVC}-v2", 100, "live")
    actions = [a.action for a in store.list_audit(AGENT)]
    assert actions[:5] == ["rollback", "rollback", "promote", "deploy", "deploy"]
    assert {a.actor for a in store.list_audit(AGENT)} == {"tester"}


def test_dry_run_changes_nothing_and_shows_the_diff(
    target: KnativeTarget, standin: KubeStandIn, tmp_path: Path, store: MetadataStore
) -> None:
    deploy(target, tmp_path, 1)
    before = standin.get(KSVC, NS, SVC)
    plan = target.plan(example().spec, artifact(tmp_path, 2), image_uri=f"{IMAGE}-2")
    data = plan.to_dict()
    assert data["options"]["server_dry_run"] is True and data["options"]["revision"] == f"{SVC}-v2"
    paths = {d["path"] for d in data["diff"]["service"]}
    assert "spec.template.spec.containers[0].image" in paths and "spec.template.metadata.name" in paths
    assert standin.get(KSVC, NS, SVC)["spec"] == before["spec"]
    assert [v.number for v in store.list_versions(AGENT)] == [1]
    json.dumps(data)  # printable as --dry-run --json


def test_missing_secret_refuses_before_any_change(
    store: MetadataStore, kubeconfig: Path, standin: KubeStandIn, tmp_path: Path
) -> None:
    target = KnativeTarget(store=store, kubeconfig=str(kubeconfig), wait_timeout_s=5)
    with pytest.raises(SecretMissing) as err:
        target.plan(example().spec, artifact(tmp_path, 1), image_uri=IMAGE)
    assert f"{SVC}-env" in err.value.cause and "kubectl -n agents create secret generic" in (
        err.value.hint or ""
    )
    assert standin.get(KSVC, NS, SVC) is None and store.list_versions(AGENT) == []


@pytest.mark.parametrize(
    "fault",
    ["create", "wait-failed", "wait-never", "gate", "traffic"],
)
def test_fault_leaves_traffic_and_rerun_converges(
    fault: str, target: KnativeTarget, standin: KubeStandIn, tmp_path: Path, store: MetadataStore
) -> None:
    deploy(target, tmp_path, 1)
    live_before = traffic(standin)
    rev2 = f"{SVC}-v2"
    expected: type[Exception] = {
        "create": ClusterCallFailed,
        "wait-failed": RevisionFailed,
        "wait-never": RevisionFailed,
        "gate": HealthGateFailed,
        "traffic": ClusterCallFailed,
    }[fault]
    if fault == "create":  # the plan's server-side dry run passes, the real write fails
        standin.fail_next("PUT", "services", after=1)
    elif fault == "wait-failed":
        standin.revision_mode(rev2, "fail", "ContainerMissing", "image not found")
    elif fault == "wait-never":
        standin.revision_mode(rev2, "never")
        target.settings["wait_timeout_s"] = 1
    elif fault == "gate":
        standin.revision_mode(rev2, "unhealthy")
    else:  # the tag patch passes, the live move fails
        standin.fail_next("PATCH", "services", after=1)
    with pytest.raises(expected):
        deploy(target, tmp_path, 2)
    assert traffic(standin) == live_before
    assert store.get_version(AGENT, 2).status == "failed"
    assert store.get_pointer(AGENT, "knative").live_version == 1
    assert store.list_audit(AGENT, limit=1)[0].action == "deploy_failed"
    # the cause goes away; the same content and image converge on the same version and revision
    standin.revision_mode(rev2, "ready")
    target.settings["wait_timeout_s"] = 5
    again = deploy(target, tmp_path, 2)
    assert (again.version, again.status) == (2, "live")
    assert traffic(standin)[0] == (rev2, 100, "live")
    assert store.get_version(AGENT, 2).status == "live"


def test_foreign_service_is_not_taken_over(
    target: KnativeTarget, standin: KubeStandIn, tmp_path: Path, store: MetadataStore
) -> None:
    deploy(target, tmp_path, 1)
    with standin.cond:  # someone else's Service of the same name
        standin.state.objects[(*KSVC, NS, SVC)]["metadata"]["labels"] = {"team": "other"}
    with pytest.raises(DeployError, match="AgentDock did not create it"):
        deploy(target, tmp_path, 2)
    assert [v.number for v in store.list_versions(AGENT)] == [1]


def test_first_deploy_failure_leaves_nothing(
    target: KnativeTarget, standin: KubeStandIn, tmp_path: Path, store: MetadataStore
) -> None:
    standin.revision_mode(f"{SVC}-v1", "unhealthy")
    with pytest.raises(HealthGateFailed):
        deploy(target, tmp_path, 1)
    assert standin.get(KSVC, NS, SVC) is None and store.get_pointer(AGENT, "knative") is None
    standin.revision_mode(f"{SVC}-v1", "ready")
    assert deploy(target, tmp_path, 1).status == "live"


def test_unchanged_redeploy_and_keep_gc(
    target: KnativeTarget, standin: KubeStandIn, tmp_path: Path, store: MetadataStore
) -> None:
    for n in (1, 2, 3):
        deploy(target, tmp_path, n)
    assert deploy(target, tmp_path, 3).status == "unchanged"
    result = deploy(target, tmp_path, 4, keep=2)
    # v4 live, v3 previous: both kept (and the 2 newest); v1 and v2 collected
    assert result.details["deleted_revisions"] == [f"{SVC}-v1", f"{SVC}-v2"]
    assert sorted(k[3] for k in standin.state.objects if k[:2] == KREV) == [f"{SVC}-v3", f"{SVC}-v4"]
    assert [t[2] for t in traffic(standin)] == ["live", "v3", "v4"]
    with pytest.raises(DeployError, match="never deployed|gone"):
        target.rollback(AGENT, 1)
    assert store.list_audit(AGENT, limit=1)[0].action == "gc"


def test_destroy(target: KnativeTarget, standin: KubeStandIn, tmp_path: Path, store: MetadataStore) -> None:
    deploy(target, tmp_path, 1)
    target.destroy(AGENT)
    assert standin.get(KSVC, NS, SVC) is None and store.get_pointer(AGENT, "knative") is None
    assert target.status(AGENT).details == {"deployed": False}
    target.destroy(AGENT)  # idempotent
