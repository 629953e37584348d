"""The Service renderer: golden manifests compared whole, and every rendered manifest checked against
the real Knative CRD schema (plus Knative's webhook rules) exactly as the stand-in admits them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from agentdock.targets.knative.diff import diff
from agentdock.targets.knative.manifest import Traffic, render_service, traffic_from
from agentdock.targets.knative.model import pinned_image, resolve_model, secret_env
from knhelpers import HASH, IMAGE, example, model_of
from standin_rules import schema_errors, webhook_errors

from agentdock.errors import DeployError
from agentdock.spec.plainenv import function_references

pytestmark = pytest.mark.unit
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = {
    # name: (example, version, traffic)
    "invoice_copilot.v2-canary20": (
        "invoice_copilot",
        2,
        Traffic(live=1, tagged=(1, 2), candidate=2, percent=20),
    ),
    "doc_summarizer.v1-first": ("doc_summarizer", 1, Traffic(live=None, tagged=(1,))),
    "lc_translator.v3-live": ("lc_translator", 3, Traffic(live=3, tagged=(1, 2, 3))),
}


def rendered(case: str) -> dict:
    name, version, traffic = CASES[case]
    return render_service(model_of(name), version, traffic, agentdock_version="0.1.0")


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_manifest_whole(case: str) -> None:
    path = GOLDEN / f"{case}.json"
    if os.environ.get("AGENTDOCK_REGOLD"):
        path.write_text(json.dumps(rendered(case), indent=2, sort_keys=True) + "\n")
    assert rendered(case) == json.loads(path.read_text())


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_manifest_passes_crd_schema_and_webhook(case: str) -> None:
    doc = rendered(case)
    assert schema_errors(doc) == []
    assert webhook_errors(doc) == []


def test_schema_check_can_fail() -> None:
    """The CRD check is real: an unknown field, a wrong type and a bad int-or-string all fail."""
    doc = rendered("doc_summarizer.v1-first")
    doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    doc["spec"]["template"]["spec"]["timeoutSeconds"] = "300"
    doc["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = 1.5
    errors = schema_errors(doc)
    assert any("imagePullPolicyy" in e for e in errors)
    assert any("timeoutSeconds" in e for e in errors)
    assert any("httpGet.port" in e for e in errors)


def test_webhook_rules_catch_bad_traffic() -> None:
    doc = rendered("invoice_copilot.v2-canary20")
    doc["spec"]["traffic"][0]["percent"] = 90  # 90 + 20
    doc["spec"]["traffic"][2]["tag"] = "live"
    errors = webhook_errors(doc)
    assert "spec.traffic: percents sum to 110, want 100" in errors
    assert any("'live' is used twice" in e for e in errors)


def test_traffic_is_pinned_and_tagged() -> None:
    entries = Traffic(live=1, tagged=(1, 2), candidate=2, percent=20).entries("inv")
    assert entries == [
        {"revisionName": "inv-v1", "percent": 80, "tag": "live", "latestRevision": False},
        {"revisionName": "inv-v2", "percent": 20, "tag": "candidate", "latestRevision": False},
        {"revisionName": "inv-v1", "percent": 0, "tag": "v1", "latestRevision": False},
        {"revisionName": "inv-v2", "percent": 0, "tag": "v2", "latestRevision": False},
    ]
    assert traffic_from(entries, "inv") == Traffic(live=1, tagged=(1, 2), candidate=2, percent=20)
    # entries written by someone else are ignored when reading ours back
    assert traffic_from([*entries, {"revisionName": "other-v9", "tag": "x"}], "inv").tagged == (1, 2)


def test_secrets_become_secret_key_refs_never_values() -> None:
    loaded = example("invoice_copilot")
    env, warnings = secret_env(
        loaded.spec, [("JWT_SECRET", None), ("LANGFUSE_PUBLIC_KEY", "pk"), ("JWT_SECRET", None)], "inv"
    )
    assert [(e.var, e.secret, e.key, e.optional) for e in env] == [
        ("JWT_SECRET", "inv-env", "JWT_SECRET", False),
        ("LANGFUSE_PUBLIC_KEY", "inv-env", "LANGFUSE_PUBLIC_KEY", True),
    ]
    assert warnings == []
    doc = json.dumps(rendered("invoice_copilot.v2-canary20"))
    assert "secretKeyRef" in doc and "${" not in doc


def test_k8s_refs_name_their_secret_and_aws_refs_warn() -> None:
    loaded = example("invoice_copilot")
    spec = loaded.spec.model_copy(
        update={
            "deploy": loaded.spec.deploy.model_copy(
                update={
                    "secrets": {"JWT_SECRET": "k8s://jwt/signing-key", "LANGFUSE_SECRET_KEY": "aws-sm://lf"}
                }
            )
        }
    )
    env, warnings = secret_env(spec, [("JWT_SECRET", None), ("LANGFUSE_SECRET_KEY", None)], "inv")
    assert [(e.secret, e.key) for e in env] == [("jwt", "signing-key")]
    assert warnings == ["LANGFUSE_SECRET_KEY resolves from aws-sm: the pod needs AWS credentials"]


def test_image_by_digest_when_known() -> None:
    digest = "sha256:" + "c" * 64
    assert pinned_image("reg:5000/a/b:1.0", digest) == f"reg:5000/a/b@{digest}"
    assert pinned_image("reg:5000/a/b", digest) == f"reg:5000/a/b@{digest}"
    assert pinned_image("a/b@" + digest, "sha256:" + "d" * 64) == "a/b@" + digest
    assert model_of(overrides={"image_digest": digest}).image.endswith("@" + digest)
    with pytest.raises(DeployError, match="not an image digest"):
        pinned_image("a/b:1", "latest")


def test_no_image_refuses_with_the_fix() -> None:
    loaded = example("doc_summarizer")
    with pytest.raises(DeployError) as err:
        resolve_model(loaded.spec, content_hash=HASH, image=None)
    assert err.value.path == "--image" and "agentdock build --target knative" in (err.value.hint or "")


def test_store_with_password_refused() -> None:
    with pytest.raises(DeployError, match="password"):
        model_of(store_url="postgresql://u:secret@db/agentdock")
    assert model_of(store_url="postgresql://u@db/agentdock").store_url == "postgresql://u@db/agentdock"
    assert model_of(store_url="sqlite:///tmp/x.db").store_url is None


def test_a_local_dockfile_store_is_refused_like_on_the_other_targets() -> None:
    """The deploy's own SQLite file gives the revision no store (above); a Dockfile naming one asks
    for a store the cluster cannot reach: refused (it was a warning and a revision without keys)."""
    loaded = example("invoice_copilot")
    assert loaded.spec.deploy is not None
    deploy = loaded.spec.deploy.model_copy(update={"store": "sqlite:///var/agentdock.db"})
    spec = loaded.spec.model_copy(update={"deploy": deploy})
    with pytest.raises(DeployError, match="the service cannot reach it") as err:
        resolve_model(spec, content_hash=HASH, image=IMAGE, store_url="postgresql://u@db/agentdock")
    assert err.value.path == "deploy.store"


def test_diff_names_changed_fields_only() -> None:
    live = rendered("lc_translator.v3-live")
    live["metadata"]["resourceVersion"] = "42"
    live["status"] = {"url": "http://x"}
    desired = json.loads(json.dumps(live))
    desired["spec"]["template"]["spec"]["containers"][0]["image"] = "new:2"
    del desired["status"]
    assert diff(live, desired) == [
        {
            "path": "spec.template.spec.containers[0].image",
            "op": "change",
            "live": model_of("lc_translator").image,
            "desired": "new:2",
        }
    ]
    assert diff(None, desired)[0]["op"] == "add"


def test_deploy_env_becomes_plain_container_env() -> None:
    loaded = example("invoice_copilot")
    assert loaded.spec.deploy is not None
    deploy = loaded.spec.deploy.model_copy(update={"env": {"LOG_LEVEL": "debug", "ZONE": "eu"}})
    spec = loaded.spec.model_copy(update={"deploy": deploy})
    refs = [(r.var, r.default) for r in function_references(loaded.raw)]
    model, _ = resolve_model(
        spec, content_hash=HASH, image="registry.example/inv@sha256:" + "a" * 64, references=refs
    )
    container = render_service(model, 1, Traffic(live=1), agentdock_version="0.1.0")["spec"]["template"][
        "spec"
    ]["containers"][0]
    plain = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    assert plain == {
        "LOG_LEVEL": "debug",
        "ZONE": "eu",
        "AGENTDOCK_VERSION": "1",
        "AGENTDOCK_CONTENT_HASH": HASH,
        "AGENTDOCK_SECRET_REFS": json.dumps(dict(model.secret_refs), sort_keys=True, separators=(",", ":")),
    }
    # The secrets stay secretKeyRefs: deploy.env adds plain values only.
    assert [e["name"] for e in container["env"] if "valueFrom" in e] == [
        "JWT_SECRET",
        "LANGFUSE_PUBLIC_KEY",
        "LANGFUSE_SECRET_KEY",
    ]
