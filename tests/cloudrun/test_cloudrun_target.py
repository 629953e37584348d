"""The Cloud Run target end to end against the stand-in with the real ``google-cloud-run`` client:
deploy v1, v2, canary, promote, rollback, status, destroy; a fault at each step leaves the previous
traffic and a re-run converges. Every request is checked against run.v2.json (``standin`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.cloudrun import CloudRunTarget
from agentdock.targets.cloudrun.client import CloudRunClient
from crhelpers import IMAGE, PROJECT, REGION, make_artifact, spec_data
from crstandin import CloudRunStandIn

from agentdock.errors import (
    CloudRunRevisionFailed,
    DeployConflict,
    DeployError,
    GoogleCallFailed,
    GoogleSecretMissing,
    HealthGateFailed,
)
from agentdock.spec.models import DockSpec
from agentdock.store import MetadataStore

pytestmark = pytest.mark.integration
NAME = f"projects/{PROJECT}/locations/{REGION}/services/summarizer"


@pytest.fixture
def target(store: MetadataStore, standin: CloudRunStandIn, client: CloudRunClient) -> CloudRunTarget:
    return CloudRunTarget(
        store=store, endpoint_url=standin.endpoint, client=client, actor="tester", gate_timeout_s=0.5
    )


def deploy(target: CloudRunTarget, root: Path, content: str, **options: Any):
    block = options.pop("block", {})
    data = spec_data(**block)
    plan = target.plan(
        DockSpec.model_validate(data), make_artifact(root, data, content), image_uri=IMAGE, **options
    )
    return target.apply(plan)


def split(standin: CloudRunStandIn) -> list[tuple[str, int, str]]:
    service = standin.state.services[NAME]
    return [(t["revision"], int(t.get("percent", 0)), t["tag"]) for t in service["traffic"]]


def test_deploy_canary_promote_rollback(
    tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn, store: MetadataStore
) -> None:
    first = deploy(target, tmp_path, "one")
    assert (first.version, first.status, first.url) == (1, "live", f"{standin.endpoint}/_serve/summarizer/-")
    assert split(standin) == [("summarizer-v1", 100, "live"), ("summarizer-v1", 0, "v1")]
    status = target.status("summarizer")
    assert status.live_version == 1 and status.details["live_revision"] == "summarizer-v1"
    assert status.details["latest_ready_revision"] == "summarizer-v1" and status.healthy is True

    second = deploy(target, tmp_path, "two")
    assert (second.version, second.status, second.previous_version) == (2, "live", 1)
    assert split(standin)[0] == ("summarizer-v2", 100, "live")

    canary = deploy(target, tmp_path, "three", canary=20)
    assert (canary.version, canary.status) == (3, "canary")
    assert split(standin)[:2] == [("summarizer-v2", 80, "live"), ("summarizer-v3", 20, "candidate")]
    with pytest.raises(DeployConflict, match="canary of version 3"):
        deploy(target, tmp_path, "four")

    promoted = target.promote("summarizer")
    assert (promoted.version, promoted.status) == (3, "live")
    assert split(standin)[0] == ("summarizer-v3", 100, "live")

    creates = len(standin.bodies("services.create"))
    templates = [b for b in standin.bodies("services.patch") if "template" in b]
    back = target.rollback("summarizer")
    assert (back.version, back.status) == (2, "live")
    assert split(standin)[0] == ("summarizer-v2", 100, "live")
    again = target.rollback("summarizer", 1)
    assert again.version == 1 and split(standin)[0] == ("summarizer-v1", 100, "live")
    # rollback moved traffic only: no new revision, no template sent
    assert len(standin.bodies("services.create")) == creates
    assert [b for b in standin.bodies("services.patch") if "template" in b] == templates
    assert len([r for r in standin.state.revisions if r.startswith(NAME)]) == 3
    assert [v.status for v in store.list_versions("summarizer")] == ["live", "retired", "retired"]
    actions = [a.action for a in store.list_audit("summarizer")]
    assert {"deploy", "promote", "rollback"} <= set(actions)


def test_dry_run_plan_changes_nothing_and_unchanged_redeploy(
    tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn, store: MetadataStore
) -> None:
    deploy(target, tmp_path, "one")
    before = (
        dict(standin.state.services[NAME]),
        len(standin.state.revisions),
        store.get_pointer("summarizer", "cloudrun"),
    )
    data = spec_data(max_instances=3)
    seen = len(standin.state.requests)
    plan = target.plan(DockSpec.model_validate(data), make_artifact(tmp_path, data, "two"), image_uri=IMAGE)
    printed = plan.to_dict()
    assert printed["options"]["version"] == 2 and printed["options"]["revision"] == "summarizer-v2"
    assert printed["diff"]["service"]["template.revision"] == {
        "live": "summarizer-v1",
        "planned": "summarizer-v2",
    }
    assert printed["diff"]["service"]["template.scaling.maxInstanceCount"]["planned"] == 3
    assert [a["call"] for a in printed["actions"]] == [
        "services.patch",
        "services.getIamPolicy",
        "GET /health",
        "services.patch",
    ]
    after = (
        dict(standin.state.services[NAME]),
        len(standin.state.revisions),
        store.get_pointer("summarizer", "cloudrun"),
    )
    assert after == before
    writes = [
        r for r in standin.state.requests[seen:] if r["method"] in ("services.create", "services.patch")
    ]
    assert writes and all(r["query"].get("validateOnly") == "true" for r in writes)
    same = deploy(target, tmp_path, "one")
    assert same.status == "unchanged" and same.version == 1


def test_public_only_when_the_dockfile_says_so(
    tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn
) -> None:
    deploy(target, tmp_path, "one")
    assert standin.bodies("services.setIamPolicy") == []
    deploy(target, tmp_path, "two", block={"allow_unauthenticated": True})
    assert standin.state.policies[NAME]["bindings"] == [
        {"role": "roles/run.invoker", "members": ["allUsers"]}
    ]
    deploy(target, tmp_path, "three")
    assert standin.state.policies[NAME]["bindings"] == []


def test_missing_secret_refuses_before_any_change(
    tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn
) -> None:
    del standin.state.secrets[(PROJECT, "jwt-signing")]
    with pytest.raises(GoogleSecretMissing) as err:
        deploy(target, tmp_path, "one")
    assert "projects/agents-prod-1/secrets/jwt-signing/versions/3 does not exist" in err.value.cause
    assert standin.bodies("services.create") == [] and NAME not in standin.state.services


def _staged_write(q: dict[str, str], body: Any) -> bool:
    return q.get("validateOnly") != "true" and "updateMask" not in q


FAULTS = {
    "write": lambda api: api.fail("services.patch", 500, "backend error", match=_staged_write),
    "revision": lambda api: api.state.failing_revisions.update({"summarizer-v2": "container exited 1"}),
    "operation": lambda api: setattr(api.state, "pending_operations", 1),
    "gate": lambda api: api.state.unhealthy.add("summarizer-v2"),
    "traffic": lambda api: api.fail(
        "services.patch",
        503,
        "unavailable",
        match=lambda q, b: q.get("updateMask") == "traffic" and q.get("validateOnly") != "true",
    ),
}
ERRORS = {"write": GoogleCallFailed, "revision": CloudRunRevisionFailed, "operation": CloudRunRevisionFailed,
          "gate": HealthGateFailed, "traffic": GoogleCallFailed}  # fmt: skip


@pytest.mark.parametrize("step", list(FAULTS))
def test_fault_at_each_step_keeps_traffic_and_rerun_converges(
    step: str, tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn, store: MetadataStore
) -> None:
    target.client().timeout_s = 0.3
    deploy(target, tmp_path, "one")
    before = split(standin)
    FAULTS[step](standin)
    with pytest.raises(ERRORS[step]):
        deploy(target, tmp_path, "two")
    assert split(standin)[0] == before[0] == ("summarizer-v1", 100, "live")
    assert store.get_pointer("summarizer", "cloudrun").live_version == 1
    assert store.get_version("summarizer", 2).status == "failed"
    assert store.list_audit("summarizer")[0].action == "deploy_failed"
    standin.state.unhealthy.clear()
    again = deploy(target, tmp_path, "two")
    expected = 3 if step == "revision" else 2  # a revision that failed to start is not re-used
    assert (again.version, again.status) == (expected, "live")
    assert split(standin)[0] == (f"summarizer-v{expected}", 100, "live")


def test_status_and_destroy(
    tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn, store: MetadataStore
) -> None:
    deploy(target, tmp_path, "one")
    deploy(target, tmp_path, "two", canary=10)
    status = target.status("summarizer").to_dict()
    d = status["details"]
    assert d["canary_version"] == 2 and d["canary_percent"] == 10
    assert [(t["revisionName"], t["percent"], t["tag"]) for t in d["traffic"][:2]] == [
        ("summarizer-v1", 90, "live"),
        ("summarizer-v2", 10, "candidate"),
    ]
    assert [r["revision"] for r in d["revisions"]] == ["summarizer-v1", "summarizer-v2"]
    assert all(r["ready"] for r in d["revisions"]) and d["conditions"][0]["state"] == "CONDITION_SUCCEEDED"
    assert [h["version"] for h in status["history"]] == [1, 2]
    target.destroy("summarizer")
    assert NAME not in standin.state.services and store.get_pointer("summarizer", "cloudrun") is None
    target.destroy("summarizer")  # idempotent
    assert target.status("summarizer").details == {"deployed": False}


def test_lost_pointer_race_puts_traffic_back(
    tmp_path: Path,
    target: CloudRunTarget,
    standin: CloudRunStandIn,
    store: MetadataStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agentdock.errors import StoreConflict

    deploy(target, tmp_path, "one")

    def lose(*args: Any, **kwargs: Any) -> Any:
        raise StoreConflict("pointer", "moved meanwhile")

    monkeypatch.setattr(store, "move_pointer", lose)
    with pytest.raises(DeployConflict):
        deploy(target, tmp_path, "two")
    assert split(standin)[0] == ("summarizer-v1", 100, "live")  # the traffic went back


def test_a_service_agentdock_does_not_manage_is_not_taken_over(
    tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn, client: CloudRunClient
) -> None:
    body = {"template": {"containers": [{"image": "someone/else:1"}]}}
    client.create_service(f"projects/{PROJECT}/locations/{REGION}", "summarizer", body)
    with pytest.raises(DeployConflict, match="does not manage it"):
        deploy(target, tmp_path, "one")
    assert standin.bodies("services.patch") == []


def test_redeploy_after_the_service_was_deleted_outside(
    tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn, client: CloudRunClient
) -> None:
    deploy(target, tmp_path, "one")
    client.delete_service(NAME)
    again = deploy(target, tmp_path, "two", canary=30)
    assert (again.version, again.status) == (2, "live")
    assert split(standin) == [("summarizer-v2", 100, "live"), ("summarizer-v2", 0, "v2")]


@pytest.fixture
def pg_store(postgres_store_url: str) -> Iterator[MetadataStore]:
    from agentdock.store import open_store

    with open_store(postgres_store_url) as meta:
        yield meta


def _store_env(body: dict[str, Any]) -> list[str]:
    return [e["value"] for e in body["template"]["containers"][0]["env"] if e["name"] == "AGENTDOCK_STORE"]


def test_the_service_reads_the_deploys_store_when_the_dockfile_names_none(
    tmp_path: Path, standin: CloudRunStandIn, client: CloudRunClient, pg_store: MetadataStore
) -> None:
    """As on Lambda and Knative: no ``deploy.store``, so the revision reads the deploy's own store."""
    target = CloudRunTarget(
        store=pg_store, endpoint_url=standin.endpoint, client=client, actor="tester", gate_timeout_s=0.5
    )
    data = spec_data()
    del data["deploy"]["store"]
    plan = target.plan(DockSpec.model_validate(data), make_artifact(tmp_path, data), image_uri=IMAGE)
    assert not any("metadata store" in w for w in plan.options["warnings"])
    target.apply(plan)
    assert _store_env(standin.bodies("services.create")[-1]) == [pg_store.url]  # type: ignore[attr-defined]
    assert pg_store.get_pointer("summarizer", "cloudrun") is not None


def test_a_local_deploy_store_gives_the_service_none(
    tmp_path: Path, target: CloudRunTarget, standin: CloudRunStandIn
) -> None:
    data = spec_data()
    del data["deploy"]["store"]
    plan = target.plan(DockSpec.model_validate(data), make_artifact(tmp_path, data), image_uri=IMAGE)
    assert any(
        w.startswith("the service gets no metadata store (sqlite:// is local")
        for w in plan.options["warnings"]
    )
    target.apply(plan)
    assert _store_env(standin.bodies("services.create")[-1]) == []
    data["deploy"]["store"] = "sqlite:///tmp/x.db"  # the Dockfile's own local store: refused, as before
    with pytest.raises(DeployError, match="local to this machine; the service cannot reach it"):
        target.plan(DockSpec.model_validate(data), make_artifact(tmp_path, data, "two"), image_uri=IMAGE)
