"""The pure render: the v2 Service body and the Knative-style YAML, compared whole with goldens and
validated against Google's own discovery documents (run.v2.json / run.v1.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from agentdock.targets.cloudrun.manifest import manifest_yaml, render_manifest
from agentdock.targets.cloudrun.model import Split, render_service, version_of
from agentdock.targets.cloudrun.resolve import resolve_model, secret_refs
from agentdock.targets.cloudrun.routing import canary_percent, final_split, staged_traffic
from crdiscovery import DiscoveryValidator, load_discovery, proto_enum_decoder
from crhelpers import IMAGE, make_artifact, spec_data

from agentdock.errors import DeployError
from agentdock.spec.models import DockSpec
from agentdock.store.base import Pointer

pytestmark = pytest.mark.unit
GOLDEN = Path(__file__).parent / "golden"
FULL = {
    "max_instances": 5,
    "concurrency": 20,
    "cpu": "1",
    "memory": "1Gi",
    "service_account": "agent@agents-prod-1.iam.gserviceaccount.com",
    "allow_unauthenticated": True,
    "cpu_idle": False,
    "timeout_s": 900,
    "ingress": "internal-and-cloud-load-balancing",
    "session_affinity": True,
}


def _model(tmp_path: Path, **block: object):
    data = spec_data(**block)
    return resolve_model(
        DockSpec.model_validate(data),
        make_artifact(tmp_path, data, image=IMAGE),
        image=None,
        project=None,
        region=None,
    )


def test_service_body_golden_and_valid_against_run_v2(tmp_path: Path) -> None:
    model, warnings = _model(tmp_path, **FULL)
    body = render_service(model, 3, Split(live=2, canary=3, canary_percent=20, tagged=(1,)))
    assert body == json.loads((GOLDEN / "service-v3-canary.json").read_text())
    assert warnings == []
    errors, _ = DiscoveryValidator(load_discovery()).check("GoogleCloudRunV2Service", body)
    assert errors == []


def test_minimal_block_golden(tmp_path: Path) -> None:
    model, _ = _model(tmp_path)
    body = render_service(model, 1, final_split(None, 1, 0))
    assert body == json.loads((GOLDEN / "service-v1-minimal.json").read_text())


def test_manifest_golden_and_valid_against_run_v1(tmp_path: Path) -> None:
    model, _ = _model(tmp_path, **FULL)
    split = Split(live=2, canary=3, canary_percent=20, tagged=(1,))
    text = manifest_yaml(model, 3, split)
    assert text == (GOLDEN / "service-v3-canary.yaml").read_text()
    data = yaml.safe_load(text)
    assert data == render_manifest(model, 3, split)
    errors, _ = DiscoveryValidator(load_discovery("run.v1.json")).check("Service", data)
    assert errors == []
    annotations = data["spec"]["template"]["metadata"]["annotations"]
    assert all(isinstance(v, str) for v in annotations.values())  # Knative: map[string]string
    assert not any(k.startswith("autoscaling.knative.dev/m") and "-" in k.split("/")[1] for k in annotations)


def test_secret_references_never_values(tmp_path: Path) -> None:
    data = spec_data()
    refs = secret_refs(DockSpec.model_validate(data), data)
    assert [(r.var, r.secret, r.version) for r in refs] == [
        ("JWT_SECRET", "jwt-signing", "3"),
        ("OPENAI_API_KEY", "OPENAI_API_KEY", "latest"),
    ]


@pytest.mark.parametrize("source", ["aws-sm://jwt", "ssm://jwt", "k8s://jwt/key"])
def test_sources_cloud_run_cannot_grant_are_refused(tmp_path: Path, source: str) -> None:
    data = spec_data(secrets={"JWT_SECRET": source})
    with pytest.raises(DeployError) as err:
        secret_refs(DockSpec.model_validate(data), data)
    assert err.value.path == "deploy.secrets.JWT_SECRET" and "gcp-sm://" in (err.value.hint or "")


def test_unlisted_reference_maps_to_same_name_secret_and_default_is_optional() -> None:
    data = spec_data(secrets={})
    data["observability"] = {"langfuse": {"public_key": "${LF_PK:-pk-none}", "secret_key": "${LF_SK}"}}
    refs = secret_refs(DockSpec.model_validate(data), data)
    assert [(r.var, r.secret, r.path) for r in refs] == [
        ("JWT_SECRET", "JWT_SECRET", "auth.jwt.secret_key"),
        ("LF_SK", "LF_SK", "observability.langfuse.secret_key"),
    ]


def test_settings_order_and_refusals(tmp_path: Path) -> None:
    data = spec_data()
    spec = DockSpec.model_validate(data)
    art = make_artifact(tmp_path, data)
    model, warnings = resolve_model(
        spec,
        art,
        image="repo/img:tag",
        project="adc-proj",
        region="us-east1",
        overrides={"region": "asia-east1", "service": "other"},
    )
    assert (model.project, model.region, model.service) == ("agents-prod-1", "asia-east1", "other")
    assert any("not pinned by digest" in w for w in warnings)
    del data["deploy"]["cloudrun"]["project"]
    with pytest.raises(DeployError, match="no GCP project"):
        resolve_model(DockSpec.model_validate(data), art, image="i", project=None, region=None)
    with pytest.raises(DeployError, match="no image"):
        resolve_model(spec, art, image=None, project=None, region=None)
    data = spec_data()
    data["deploy"]["store"] = "sqlite:///tmp/x.db"
    with pytest.raises(DeployError, match="local to this machine"):
        resolve_model(DockSpec.model_validate(data), art, image="i", project=None, region=None)


def test_traffic_rules() -> None:
    first = staged_traffic("svc", None, 1)
    assert first == [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "svc-v1", "percent": 100, "tag": "v1"}
    ]
    pointer = Pointer("a", "cloudrun", "live", live_version=2, previous_version=1, revision=4)
    staged = staged_traffic("svc", pointer, 3)
    assert [(e["revision"], e.get("percent", 0), e["tag"]) for e in staged] == [
        ("svc-v2", 100, "live"),
        ("svc-v1", 0, "v1"),
        ("svc-v2", 0, "v2"),
        ("svc-v3", 0, "v3"),
    ]
    assert final_split(pointer, 3, 0) == Split(3, None, 0, (2,))
    assert final_split(pointer, 3, 10) == Split(2, 3, 10, ())
    assert version_of("svc-v12") == 12 and version_of("svc-00001-abc") is None
    assert canary_percent("25") == 25
    for bad in ("x", 0.5, 100, 12.5):
        with pytest.raises(DeployError):
            canary_percent(bad)


def test_validator_rejects_unknown_field_wrong_enum_and_output_only() -> None:
    validator = DiscoveryValidator(load_discovery(), enum_decoder=proto_enum_decoder)
    good = {"template": {"containers": [{"image": "i"}]}, "ingress": "INGRESS_TRAFFIC_ALL"}
    assert validator.check("GoogleCloudRunV2Service", good)[0] == []
    bad = {
        "template": {"containers": [{"image": "i", "imagePullSecrets": []}], "timeout": "5 minutes"},
        "ingress": "INGRESS_ALL",
        "uri": "https://x.run.app",
        "traffic": [{"percent": "100"}],
    }
    errors, _ = validator.check("GoogleCloudRunV2Service", bad)
    assert sorted(errors) == sorted(
        [
            "template.containers[0].imagePullSecrets: unknown field (not in GoogleCloudRunV2Container)",
            "template.timeout: '5 minutes' is not a duration like '300s'",
            "ingress: 'INGRESS_ALL' is not one of "
            + str(validator.schemas["GoogleCloudRunV2Service"]["properties"]["ingress"]["enum"]),
            "uri: output-only field sent in a request",
            "traffic[0].percent: expected an integer, got '100'",
        ]
    )
    # integer enums (the REST client sends `$alt=json;enum-encoding=int`) are decoded, then checked
    errors, normal = validator.check("GoogleCloudRunV2Service", {"ingress": 1}, int_enums=True)
    assert errors == [] and normal == {"ingress": "INGRESS_TRAFFIC_ALL"}
    assert validator.check("GoogleCloudRunV2Service", {"ingress": 1})[0]  # not without the flag
    assert validator.check("GoogleCloudRunV2Service", {"ingress": 99}, int_enums=True)[0]


def test_dockfile_checks_accept_gcp_sm_and_refuse_bad_service_names(tmp_path: Path) -> None:
    from agentdock.errors import DockfileInvalid
    from agentdock.spec import load_dockfile

    def write(data: dict) -> Path:
        path = tmp_path / "Dockfile.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    loaded = load_dockfile(write(spec_data()), allow_unresolved=True, check_imports=False)
    assert loaded.spec.deploy.secrets["JWT_SECRET"] == "gcp-sm://jwt-signing/3"
    bad = spec_data(service="Bad_Name")
    bad["deploy"]["secrets"] = {"JWT_SECRET": "gcp-sm://jwt/v1"}
    with pytest.raises(DockfileInvalid) as err:
        load_dockfile(write(bad), allow_unresolved=True, check_imports=False)
    paths = sorted(e.path for e in err.value.errors)
    assert paths == ["deploy.cloudrun.service", "deploy.secrets.JWT_SECRET"]


def test_runtime_reads_gcp_sm_values_from_the_injected_environment() -> None:
    from agentdock.runtime.secrets import SecretResolver

    resolver = SecretResolver({"JWT_SECRET": "gcp-sm://jwt-signing/3"}, env={"JWT_SECRET": "s3cr3t"})
    assert resolver.lookup("JWT_SECRET") == "s3cr3t"


def test_gate_stops_at_once_on_auth_errors_and_retries_otherwise() -> None:
    from agentdock.targets.cloudrun.gate import wait_healthy

    seen: list[str] = []

    def probe(url: str, headers: dict[str, str]) -> int:
        seen.append(url)
        return [503, 0, 200][len(seen) - 1] if len(seen) <= 3 else 200

    assert wait_healthy("http://x/v2", timeout_s=5, probe=probe, sleep=lambda s: None)[0] is True
    assert seen == ["http://x/v2/health"] * 3
    passed, what = wait_healthy("http://x", timeout_s=5, probe=lambda u, h: 403, sleep=lambda s: None)
    assert passed is False and "could not authenticate" in what
    passed, what = wait_healthy("http://x", timeout_s=0, probe=lambda u, h: 503, sleep=lambda s: None)
    assert passed is False and "503 for 0 s" in what


def test_deploy_env_is_plain_container_env_and_no_secret_ref(tmp_path: Path) -> None:
    data = spec_data()
    data["deploy"]["env"] = {"LOG_LEVEL": "debug", "STAGE_LABEL": "prod"}
    spec = DockSpec.model_validate(data)
    model, _ = resolve_model(
        spec, make_artifact(tmp_path, data, image=IMAGE), image=None, project=None, region=None
    )
    container = render_service(model, 1, final_split(None, 1, 0))["template"]["containers"][0]
    assert [e for e in container["env"] if "value" in e] == [
        {"name": "AGENTDOCK_CONTENT_HASH", "value": model.content_hash},
        {"name": "AGENTDOCK_STORE", "value": "postgresql://agentdock@10.0.0.5/agentdock"},
        {"name": "AGENTDOCK_VERSION", "value": "1"},
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "STAGE_LABEL", "value": "prod"},
    ]
    manifest_env = render_manifest(model, 1, final_split(None, 1, 0))["spec"]["template"]["spec"][
        "containers"
    ][0]["env"]
    assert {"name": "LOG_LEVEL", "value": "debug"} in manifest_env
    # A ${VAR} written in deploy.env is resolved by the deploy, never wired as a Secret Manager ref.
    data["deploy"]["env"] = {"STAGE_LABEL": "${STAGE}"}
    assert "STAGE" not in {r.var for r in secret_refs(spec, data)}
