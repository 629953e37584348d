"""The Lambda target with the real pieces around it: a build context rendered by ``agentdock.build``
from an example Dockfile, the real local preflight as the health gate (moto cannot run image
functions), and the real ``agentdock.runtime.lambda_handler`` module imported the way Lambda
imports it, answering a function-URL event built from the shared sample."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from agentdock.targets.lambda_ import LambdaTarget
from lambdahelpers import unique_name

from agentdock.build import build_context, flavour_for
from agentdock.errors import InvokeModeMismatch
from agentdock.spec import load_dockfile
from agentdock.store import MetadataStore

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "doc_summarizer"
EVENTS = Path(__file__).resolve().parent / "events"


def example_copy(tmp_path: Path, name: str, streaming: str) -> Path:
    """The doc_summarizer example under a unique agent name (the moto server is shared)."""
    folder = tmp_path / name
    folder.mkdir()
    for item in EXAMPLE.iterdir():
        if item.is_file():
            (folder / item.name).write_bytes(item.read_bytes())
    data = yaml.safe_load((EXAMPLE / "Dockfile.yaml").read_text())
    data["agent"]["name"] = name.replace("-", "_")
    data["expose"]["streaming"] = streaming
    (folder / "Dockfile.yaml").write_text(yaml.safe_dump(data))
    return folder / "Dockfile.yaml"


def test_real_context_deploys_behind_the_real_preflight(
    store: MetadataStore, aws: str, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("real")
    dockfile = example_copy(tmp_path, name, "sse")
    loaded = load_dockfile(dockfile, allow_unresolved=True)
    artifact = build_context(dockfile, flavour=flavour_for("lambda", loaded.spec), out_dir=tmp_path / "ctx")
    target = LambdaTarget(store=store, builder=False)
    plan = target.plan(loaded.spec, artifact, image_uri=ecr_image(f"agentdock/{loaded.spec.dns_name}", "1"))
    assert plan.options["health_gate"] == "preflight"  # chosen because the endpoint is an emulator
    assert plan.options["invoke_mode_evidence"].endswith("AWS_LWA_INVOKE_MODE=response_stream")
    result = target.apply(plan)
    fn = loaded.spec.dns_name
    url = client("lambda").get_function_url_config(FunctionName=fn, Qualifier="live")
    assert url["InvokeMode"] == "RESPONSE_STREAM" and result.status == "live"
    frozen = json.loads((Path(artifact.context_dir) / "agent" / "agentdock.spec.json").read_text())
    assert store.get_version(loaded.spec.agent.name, 1).spec == frozen
    audit = store.list_audit(loaded.spec.agent.name)[0]
    assert audit.details["health_gate"] == "preflight"

    # the buffered rendering of a streaming Dockfile cannot ship behind a streaming URL
    buffered = build_context(dockfile, flavour="lambda-buffered", out_dir=tmp_path / "ctx-buffered")
    with pytest.raises(InvokeModeMismatch, match="sets no AWS_LWA_INVOKE_MODE"):
        target.plan(loaded.spec, buffered)


def test_buffered_handler_module_serves_a_function_url_event(tmp_path: Path) -> None:
    name = unique_name("mangum")
    dockfile = example_copy(tmp_path, name, "none")
    loaded = load_dockfile(dockfile, allow_unresolved=True)
    assert flavour_for("lambda", loaded.spec) == "lambda-buffered"
    artifact = build_context(dockfile, flavour="lambda-buffered", out_dir=tmp_path / "ctx")
    event = copy.deepcopy(json.loads((EVENTS / "lambda-function-url-event.json").read_text()))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/health"
    script = (
        "import json, sys\n"
        "from agentdock.runtime.lambda_handler import handler\n"
        "print(json.dumps(handler(json.loads(sys.argv[1]), None)))\n"
    )
    env = {
        **os.environ,
        "AGENTDOCK_SPEC": str(Path(artifact.context_dir) / "agent" / "agentdock.spec.json"),
        "AGENTDOCK_VERSION": "7",
        "AGENTDOCK_FAKE_MODEL": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(event)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    response = json.loads(done.stdout.strip().splitlines()[-1])
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    body = json.loads(response["body"])
    assert body["status"] == "ok" and str(body["version"]) == "7"
