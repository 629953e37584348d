"""The client wrapper through the real ``google-cloud-run`` REST client against the stand-in, which
validates every request against run.v2.json (the ``standin`` fixture asserts none failed)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from agentdock.targets.cloudrun.client import CloudRunClient
from agentdock.targets.cloudrun.model import Split, render_service, traffic
from agentdock.targets.cloudrun.resolve import resolve_model
from crhelpers import IMAGE, PROJECT, REGION, make_artifact, spec_data
from crstandin import CloudRunStandIn

from agentdock.errors import CloudRunRevisionFailed, GoogleCallFailed
from agentdock.spec.models import DockSpec

pytestmark = pytest.mark.integration
PARENT = f"projects/{PROJECT}/locations/{REGION}"
NAME = f"{PARENT}/services/summarizer"


def _body(tmp_path: Path, version: int, split: Split) -> dict:
    data = spec_data(allow_unauthenticated=True)
    model, _ = resolve_model(
        DockSpec.model_validate(data),
        make_artifact(tmp_path, data, image=IMAGE),
        image=None,
        project=None,
        region=None,
    )
    return render_service(model, version, split)


def test_create_read_patch_traffic_and_revisions(
    tmp_path: Path, client: CloudRunClient, standin: CloudRunStandIn
) -> None:
    assert client.get_service(NAME) is None
    checked = client.create_service(PARENT, "summarizer", _body(tmp_path, 1, Split(1)), validate_only=True)
    assert checked["template"]["revision"] == "summarizer-v1" and client.get_service(NAME) is None
    created = client.create_service(PARENT, "summarizer", _body(tmp_path, 1, Split(1)))
    assert created["latestReadyRevision"] == f"{NAME}/revisions/summarizer-v1"
    assert [s["tag"] for s in created["trafficStatuses"]] == ["live", "v1"]
    # the create body the stand-in got is the render, enums and all, once decoded
    sent = standin.bodies("services.create")[-1]
    assert sent["template"]["executionEnvironment"] == 2  # enum-encoding=int, decoded before the check
    second = _body(tmp_path, 2, Split(1, None, 0, (2,)))
    updated = client.update_service(NAME, second)
    assert [r["name"].rsplit("/", 1)[1] for r in client.list_revisions(NAME)] == [
        "summarizer-v1",
        "summarizer-v2",
    ]
    moved = client.update_service(
        NAME,
        {"traffic": traffic("summarizer", Split(2, None, 0, (1,))), "etag": updated["etag"]},
        fields=("traffic",),
    )
    assert [(t["revision"], t.get("percent", 0)) for t in moved["traffic"]][0] == ("summarizer-v2", 100)
    assert moved["template"]["revision"] == "summarizer-v2"  # traffic-only: no new revision
    assert len(client.list_revisions(NAME)) == 2
    assert (
        client.get_revision(f"{NAME}/revisions/summarizer-v2")["conditions"][0]["state"]
        == "CONDITION_SUCCEEDED"
    )
    assert client.get_revision(f"{NAME}/revisions/summarizer-v9") is None


def test_stale_etag_is_refused(tmp_path: Path, client: CloudRunClient) -> None:
    created = client.create_service(PARENT, "summarizer", _body(tmp_path, 1, Split(1)))
    client.update_service(NAME, {"traffic": traffic("summarizer", Split(1))}, fields=("traffic",))
    with pytest.raises(GoogleCallFailed) as err:
        client.update_service(
            NAME, {"traffic": traffic("summarizer", Split(1)), "etag": created["etag"]}, fields=("traffic",)
        )
    assert err.value.path == "run.services.patch" and "409" in err.value.cause


def test_failed_revision_and_operation_timeout(
    tmp_path: Path, client: CloudRunClient, standin: CloudRunStandIn
) -> None:
    client.create_service(PARENT, "summarizer", _body(tmp_path, 1, Split(1)))
    standin.state.failing_revisions["summarizer-v2"] = "container failed to start on PORT=8080"
    with pytest.raises(CloudRunRevisionFailed, match="failed to start"):
        client.update_service(NAME, _body(tmp_path, 2, Split(1, None, 0, (2,))))
    assert client.get_service(NAME)["traffic"][0]["revision"] == "summarizer-v1"
    standin.state.pending_operations = 1
    quick = CloudRunClient(endpoint=standin.endpoint, timeout_s=0.3, poll_s=0.05)
    with pytest.raises(CloudRunRevisionFailed, match="was not done after"):
        quick.update_service(NAME, {"traffic": traffic("summarizer", Split(1))}, fields=("traffic",))


def test_iam_invoker_binding_and_secrets(
    tmp_path: Path, client: CloudRunClient, standin: CloudRunStandIn
) -> None:
    client.create_service(PARENT, "summarizer", _body(tmp_path, 1, Split(1)))
    assert client.is_public(NAME) is False
    assert client.set_public(NAME, False) is False  # nothing to change: no setIamPolicy call
    assert client.set_public(NAME, True) is True and client.is_public(NAME) is True
    assert client.set_public(NAME, True) is False
    assert standin.bodies("services.setIamPolicy")[-1]["policy"]["bindings"] == [
        {"role": "roles/run.invoker", "members": ["allUsers"]}
    ]
    assert client.set_public(NAME, False) is True and client.is_public(NAME) is False
    assert client.secret_state(PROJECT, "jwt-signing", "3") == "ENABLED"
    assert client.secret_state(PROJECT, "jwt-signing", "latest") == "ENABLED"
    assert client.secret_state(PROJECT, "missing", "latest") is None


def test_injected_failure_and_delete(
    tmp_path: Path, client: CloudRunClient, standin: CloudRunStandIn
) -> None:
    standin.fail("services.create", 500, "backend unavailable")
    with pytest.raises(GoogleCallFailed) as err:
        client.create_service(PARENT, "summarizer", _body(tmp_path, 1, Split(1)))
    assert err.value.path == "run.services.create" and "backend unavailable" in err.value.cause
    client.create_service(PARENT, "summarizer", _body(tmp_path, 1, Split(1)))
    assert client.delete_service(NAME) is True
    assert client.delete_service(NAME) is False
    assert client.get_service(NAME) is None


def test_standin_refuses_a_body_that_is_not_run_v2(standin: CloudRunStandIn) -> None:
    body = json.dumps({"template": {"containers": [{"image": "i", "envFrom": []}]}, "uri": "x"}).encode()
    request = urllib.request.Request(
        f"{standin.endpoint}/v2/{PARENT}/services?serviceId=s",
        data=body,
        method="POST",
        headers={"content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    message = json.loads(err.value.read())["error"]["message"]
    assert err.value.code == 400
    assert "envFrom: unknown field" in message and "uri: output-only field" in message
    assert standin.invalid_requests()
    standin.state.requests.clear()  # the fixture's final check is about the client's requests
