"""Health gates: the URL gate (staging alias + IAM-only URL + SigV4), ``none`` (audited), the choice.

moto serves no function URLs, so the URL gate's HTTP GET is a recorded probe here: it sees the
signed request exactly as AWS would, and answers what the test needs (healthy, 503, the wrong
version). moto also ignores the Qualifier of URL calls (one URL config per function), so the
staging URL and the live URL are the same object on moto; on AWS they are two URLs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.lambda_ import LambdaTarget
from agentdock.targets.lambda_.gate import choose_gate, reported_version, url_gate
from lambdahelpers import make_artifact, make_spec, unique_name

from agentdock.errors import DeployError, HealthGateFailed
from agentdock.store import MetadataStore

pytestmark = pytest.mark.integration


@dataclass
class Probe:
    """Answers GET <url>/health as told; records every request."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        self.requests.append((url, headers))
        return self.status, json.dumps(self.body).encode()


def test_url_gate_failure_leaves_live_and_marks_the_version_failed(
    store: MetadataStore, aws: str, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("gate")
    probe = Probe(body={"status": "ok", "version": 1})
    target = LambdaTarget(store=store, probe=probe, builder=False, gate_timeout_s=0.0, sleep=lambda _s: None)
    spec = make_spec(name)
    first = target.plan(
        spec, make_artifact(tmp_path, "g1"), image_uri=ecr_image(f"agentdock/{name}", "g1"), health_gate="url"
    )
    assert [c.call for c in first.actions if c.phase == "prepare"][-3:] == [
        "create_alias",
        "create_function_url_config",
        "health_gate",
    ]
    target.apply(first)
    url, headers = probe.requests[-1]
    assert url.endswith(".on.aws/health")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "/us-east-1/lambda/aws4_request" in headers["Authorization"]
    lam = client("lambda")
    assert lam.get_alias(FunctionName=name, Name="staging")["FunctionVersion"] == "1"

    probe.status, probe.body = 503, {"detail": "graph failed to load"}
    artifact, image = make_artifact(tmp_path, "g2"), ecr_image(f"agentdock/{name}", "g2")
    with pytest.raises(HealthGateFailed, match="did not become healthy.*HTTP 503"):
        target.apply(target.plan(spec, artifact, image_uri=image, health_gate="url"))
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    assert lam.get_alias(FunctionName=name, Name="staging")["FunctionVersion"] == "2"
    assert store.get_version(name, 2).status == "failed"
    pointer = store.get_pointer(name, "lambda")
    assert pointer is not None and pointer.live_version == 1
    failed = store.list_audit(name)[0]
    assert failed.action == "deploy_failed" and failed.details["failed_call"] == "agentdock.health_gate"

    probe.status, probe.body = 200, {"status": "ok", "version": 1}  # an old instance answers
    with pytest.raises(HealthGateFailed, match="reports version 1, expected 2"):
        target.apply(target.plan(spec, artifact, image_uri=image, health_gate="url"))

    probe.body = {"status": "ok", "version": "2"}
    done = target.apply(target.plan(spec, artifact, image_uri=image, health_gate="url"))
    assert (done.version, done.status) == (2, "live")
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"


def test_health_gate_none_must_be_asked_and_is_audited(
    target: LambdaTarget, store: MetadataStore, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("nogate")
    plan = target.plan(
        make_spec(name),
        make_artifact(tmp_path, "n1"),
        image_uri=ecr_image(f"agentdock/{name}", "n1"),
        health_gate="none",
    )
    assert plan.options["health_gate"] == "none" and "preflight" not in [c.call for c in plan.actions]
    target.apply(plan)
    actions = [(a.action, a.details.get("health_gate")) for a in store.list_audit(name)]
    assert actions == [("deploy", "none"), ("health_gate_skipped", None)]


def test_gate_choice() -> None:
    assert choose_gate(None, endpoint_override=True) == "preflight"
    assert choose_gate(None, endpoint_override=False) == "url"
    assert choose_gate("none", endpoint_override=False) == "none"
    with pytest.raises(DeployError, match="unknown health gate 'smoke'"):
        choose_gate("smoke", endpoint_override=False)


def test_url_gate_polls_until_healthy_within_its_bound() -> None:
    answers = iter([(502, b""), (200, b'{"version": "7"}')])
    clock = iter([0.0, 0.0, 1.0, 2.0])
    slept: list[float] = []
    result = url_gate(
        "https://x.lambda-url.us-east-1.on.aws/",
        7,
        region="us-east-1",
        credentials=None,
        probe=lambda _u, _h: next(answers),
        timeout_s=10,
        interval_s=1.0,
        sleep=slept.append,
        clock=lambda: next(clock),
    )
    assert result == {
        "gate": "url",
        "url": "https://x.lambda-url.us-east-1.on.aws/health",
        "status": 200,
        "attempts": 2,
    }
    assert slept == [1.0]
    assert reported_version(b'{"version": "0.1.0"}') is None and reported_version(b"not json") is None
