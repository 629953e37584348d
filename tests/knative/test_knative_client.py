"""``KnativeClient`` through the real ``kubernetes`` client against the API stand-in over HTTP:
resourceVersion conflicts, server-side dry-run, watches that end on Ready / a failure reason / a
timeout, traffic patches, secrets by name and key, API errors mapped to ClusterCallFailed."""

from __future__ import annotations

from pathlib import Path

import pytest
from agentdock.targets.knative.client import KnativeClient
from agentdock.targets.knative.connect import connect
from agentdock.targets.knative.manifest import Traffic, render_service
from knhelpers import model_of
from standin import KREV, KSVC, KubeStandIn

from agentdock.errors import ClusterCallFailed, DeployConflict, RevisionFailed

pytestmark = pytest.mark.integration
SVC = "invoice-copilot"


@pytest.fixture
def kube(kubeconfig: Path) -> KnativeClient:
    return KnativeClient(connect(kubeconfig=str(kubeconfig), context="standin"), "agents")


def manifest(version: int, traffic: Traffic) -> dict:
    return render_service(model_of(), version, traffic, agentdock_version="0.1.0")


def test_create_wait_ready_and_route_urls(standin: KubeStandIn, kube: KnativeClient) -> None:
    created = kube.apply(manifest(1, Traffic(live=None, tagged=(1,))))
    assert created["metadata"]["resourceVersion"]
    revision = kube.wait_revision(f"{SVC}-v1", timeout_s=5)
    assert revision["metadata"]["labels"]["serving.knative.dev/service"] == SVC
    kube.patch_traffic(SVC, Traffic(live=1, tagged=(1,)).entries(SVC))
    svc = kube.wait_service(
        SVC,
        lambda o: any(t.get("tag") == "live" for t in o.get("status", {}).get("traffic", [])),
        timeout_s=5,
    )
    urls = {t["tag"]: t["url"] for t in svc["status"]["traffic"]}
    assert urls == {
        "live": f"{standin.url}/_route/agents/{SVC}/live",
        "v1": f"{standin.url}/_route/agents/{SVC}/v1",
    }
    assert len(standin.state.received) == 2  # the create and the traffic patch, both validated


def test_dry_run_changes_nothing(standin: KubeStandIn, kube: KnativeClient) -> None:
    answer = kube.apply(manifest(1, Traffic(live=None, tagged=(1,))), dry_run=True)
    assert answer["spec"]["template"]["metadata"]["name"] == f"{SVC}-v1"
    assert kube.get_service(SVC) is None and standin.get(KREV, "agents", f"{SVC}-v1") is None
    kube.apply(manifest(1, Traffic(live=None, tagged=(1,))))
    before = standin.get(KSVC, "agents", SVC)
    kube.apply(manifest(2, Traffic(live=None, tagged=(1,))), dry_run=True)
    assert standin.get(KSVC, "agents", SVC)["spec"] == before["spec"]
    assert standin.get(KSVC, "agents", SVC)["metadata"]["generation"] == 1
    assert standin.get(KREV, "agents", f"{SVC}-v2") is None


def test_conflict_rereads_and_retries_then_gives_up(standin: KubeStandIn, kube: KnativeClient) -> None:
    kube.apply(manifest(1, Traffic(live=None, tagged=(1,))))
    standin.fail_next("PUT", "services", status=409, count=2)
    kube.apply(manifest(2, Traffic(live=None, tagged=(1,))))  # two 409s, then it lands
    assert standin.get(KSVC, "agents", SVC)["spec"]["template"]["metadata"]["name"] == f"{SVC}-v2"
    standin.fail_next("PATCH", "services", status=409, count=99)
    with pytest.raises(DeployConflict, match="resourceVersion conflicts"):
        kube.patch_traffic(SVC, Traffic(live=1, tagged=(1,)).entries(SVC))
    standin.state.faults.clear()


def test_stale_resource_version_is_refused_by_the_server(standin: KubeStandIn, kube: KnativeClient) -> None:
    """The stand-in itself enforces resourceVersion (what the client's retry relies on)."""
    from kubernetes.client.exceptions import ApiException

    kube.apply(manifest(1, Traffic(live=None, tagged=(1,))))
    stale = manifest(2, Traffic(live=None, tagged=(1,)))
    stale["metadata"]["resourceVersion"] = "1"
    with pytest.raises(ApiException) as err:
        kube.custom.replace_namespaced_custom_object(
            "serving.knative.dev", "v1", "agents", "services", SVC, stale
        )
    assert err.value.status == 409
    del stale["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as err:
        kube.custom.replace_namespaced_custom_object(
            "serving.knative.dev", "v1", "agents", "services", SVC, stale
        )
    assert err.value.status == 422  # an update must carry one


def test_failed_revision_reports_reason_and_message(standin: KubeStandIn, kube: KnativeClient) -> None:
    standin.revision_mode(f"{SVC}-v1", "fail", "ImagePullBackOff", "image registry.example.com/x not found")
    kube.apply(manifest(1, Traffic(live=None, tagged=(1,))))
    with pytest.raises(RevisionFailed) as err:
        kube.wait_revision(f"{SVC}-v1", timeout_s=5)
    assert "ImagePullBackOff: image registry.example.com/x not found" in err.value.cause


def test_never_ready_revision_times_out(standin: KubeStandIn, kube: KnativeClient) -> None:
    standin.revision_mode(f"{SVC}-v1", "never")
    kube.apply(manifest(1, Traffic(live=None, tagged=(1,))))
    with pytest.raises(RevisionFailed, match=r"not Ready within 1s \(last: Ready=Unknown Deploying\)"):
        kube.wait_revision(f"{SVC}-v1", timeout_s=1)


def test_missing_secrets_named_by_secret_and_key(standin: KubeStandIn, kube: KnativeClient) -> None:
    required = model_of().required_secrets()
    assert required == {f"{SVC}-env": ["JWT_SECRET", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"]}
    assert kube.missing_secrets(required) == [f"{SVC}-env"]
    standin.put_secret("agents", f"{SVC}-env", {"JWT_SECRET": "s" * 32})
    assert kube.missing_secrets(required) == [
        f"{SVC}-env/LANGFUSE_PUBLIC_KEY",
        f"{SVC}-env/LANGFUSE_SECRET_KEY",
    ]


def test_invalid_manifest_is_refused_with_422(standin: KubeStandIn, kube: KnativeClient) -> None:
    bad = manifest(1, Traffic(live=None, tagged=(1,)))
    bad["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "PORT", "value": "9"})
    with pytest.raises(ClusterCallFailed, match="HTTP 422.*PORT is reserved"):
        kube.apply(bad)
    assert len(standin.state.invalid) == 1
    standin.state.invalid.clear()


def test_errors_name_the_call_and_the_fix(standin: KubeStandIn, kube: KnativeClient) -> None:
    standin.fail_next("GET", "services", status=500)
    with pytest.raises(ClusterCallFailed) as err:
        kube.get_service(SVC)
    assert err.value.path == f"get service agents/{SVC}" and "HTTP 500" in err.value.cause
    standin.stop()
    with pytest.raises(ClusterCallFailed, match="cannot reach the API server"):
        KnativeClient(kube.api_client, "agents").get_service(SVC)


def test_list_and_delete(standin: KubeStandIn, kube: KnativeClient) -> None:
    kube.apply(manifest(1, Traffic(live=None, tagged=(1,))))
    kube.apply(manifest(2, Traffic(live=None, tagged=(1,))))
    assert sorted(r["metadata"]["name"] for r in kube.list_revisions(SVC)) == [f"{SVC}-v1", f"{SVC}-v2"]
    kube.delete_revision(f"{SVC}-v1")
    assert [r["metadata"]["name"] for r in kube.list_revisions(SVC)] == [f"{SVC}-v2"]
    assert kube.delete_service(SVC) is True and kube.delete_service(SVC) is False
    assert kube.list_revisions(SVC) == []


def test_kubeconfig_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ClusterCallFailed, match="cannot load the kubeconfig"):
        connect(kubeconfig=str(tmp_path / "nope"), context="x")


def test_connect_reads_kubeconfig_from_the_environment_at_call_time(
    standin: KubeStandIn, kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kubernetes client fixes its default kubeconfig path when it is first imported; a process
    that imported it earlier (the console, a test session) must still follow ``$KUBECONFIG`` now."""
    import kubernetes.config.kube_config as kube_config

    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(tmp_path / "absent"))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    api = connect()
    assert api.configuration.host == standin.url
