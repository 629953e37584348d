"""The default example, preflighted for real on every flavour family: its locked requirements
installed into a cached environment, the image's own CMD in the sandbox, reached as the platform
reaches it (LWA contract for streaming, Mangum fed function URL events for buffered, PORT for
Knative)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from agentdock.errors import BuildError, PreflightFailed
from agentdock.preflight import preflight
from agentdock.preflight.envs import locked_env, read_manifest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("flavour", ["lambda-stream", "lambda-buffered", "knative"])
def test_default_example_passes_on_every_flavour(contexts: dict[str, Path], flavour: str) -> None:
    result = preflight(contexts[flavour], timeout_s=90)
    assert result["flavour"] == flavour
    assert result["health"]["status"] == "ok"
    assert result["invoke"] == "ok"
    assert result["stream_events"] >= 1
    # a reconnect after the end rejoins (204), except on Lambda, where resume is off by default
    assert result.get("stream_resume") == (None if flavour.startswith("lambda") else "ok")
    assert "bootstrap API key" in result["auth"]
    if os.geteuid() == 0:  # CI runs as root: every isolation step applies
        assert result["isolation"]["skipped"] == []
        assert "uid/gid 10001, no capabilities" in result["isolation"]["applied"]
    assert result["rss_mb"] is None or result["rss_mb"] < 200


def test_one_environment_per_lock(contexts: dict[str, Path]) -> None:
    stream = (contexts["lambda-stream"] / "requirements.txt").read_bytes()
    assert stream == (contexts["lambda-buffered"] / "requirements.txt").read_bytes()
    first, _ = locked_env(contexts["lambda-stream"], read_manifest(contexts["lambda-stream"]))
    again = preflight(contexts["lambda-buffered"], timeout_s=90)
    assert again["env"]["path"] == str(first)
    assert again["env"]["cached"] is True


def test_a_context_without_the_wheel_fails_loudly(contexts: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "ctx"
    shutil.copytree(contexts["knative"], broken)
    shutil.rmtree(broken / "wheels")
    with pytest.raises(BuildError, match="wheel is missing"):
        preflight(broken)
    manifest = json.loads((broken / "agentdock-build.json").read_text())
    manifest["wheels"] = {}
    (broken / "agentdock-build.json").write_text(json.dumps(manifest))
    with pytest.raises(BuildError, match="records no agentdock wheel"):
        read_manifest(broken)


def test_a_tampered_wheel_is_refused(contexts: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "ctx"
    shutil.copytree(contexts["knative"], broken)
    wheel = next((broken / "wheels").glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    with pytest.raises(BuildError, match="does not match the sha256"):
        preflight(broken)


def test_a_startup_failure_names_the_check_and_how_to_reproduce(
    contexts: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "ctx"
    shutil.copytree(contexts["knative"], broken)
    spec = broken / "agent" / "agentdock.spec.json"
    raw = json.loads(spec.read_text())
    raw["agent"]["entrypoint"] = "agent:no_such_function"
    spec.write_text(json.dumps(raw))
    with pytest.raises(PreflightFailed) as err:
        preflight(broken, timeout_s=60)
    assert err.value.path == "start"
    assert "no_such_function" in err.value.cause
    assert err.value.hint and err.value.hint.startswith(f"reproduce: cd {broken}")
    assert "env -i" in err.value.hint
