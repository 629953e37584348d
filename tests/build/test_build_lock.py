"""Image contexts: the agentdock wheel (reproducible, from this installation) and the universal
hash-locked requirements; every example on every image flavour locks what its runtime imports."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from agentdock.build import prepare
from agentdock.build.lock import normalise
from agentdock.build.requirements import runtime_extras, startup_modules
from agentdock.build.wheel import agentdock_wheel
from agentdock.spec import load_dockfile

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(ROOT.glob("examples/*/Dockfile.yaml"))
IMAGE_FLAVOURS = ("lambda-stream", "lambda-buffered", "knative", "cloudrun")
# import name -> distribution name, where they differ
DISTRIBUTION = {
    "yaml": "pyyaml",
    "jwt": "pyjwt",
    "prometheus_client": "prometheus-client",
    "aws_lambda_powertools": "aws-lambda-powertools",
    "langgraph.checkpoint.sqlite": "langgraph-checkpoint-sqlite",
}


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AGENTDOCK_WHEEL", raising=False)


def _locked(requirements: str) -> set[str]:
    return {normalise(line.split("==", 1)[0]) for line in requirements.splitlines() if line[:1].isalnum()}


@pytest.mark.parametrize("dockfile", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_locks_what_its_runtime_imports(dockfile: Path) -> None:
    loaded = load_dockfile(dockfile, allow_unresolved=True)
    for flavour in IMAGE_FLAVOURS:
        rendered = prepare(loaded, flavour=flavour)
        text = rendered.files["requirements.txt"].decode()
        locked = _locked(text)
        for module in startup_modules(flavour, loaded.spec):
            assert normalise(DISTRIBUTION.get(module, module)) in locked, (dockfile.parent.name, flavour, module)
        # only what the Dockfile and target ask for
        extras = runtime_extras(flavour, loaded.spec)
        assert ("boto3" in locked) == ("aws-runtime" in extras)
        assert ("psycopg" in locked) == ("postgres" in extras)
        assert ("langfuse" in locked) == ("langfuse" in extras)
        assert ("aws-lambda-powertools" in locked) == ("lambda" in extras)
        # agentdock: never from the index, always the context's wheel by path with its sha256
        wheel = next(name for name in rendered.files if name.startswith("wheels/agentdock-"))
        digest = hashlib.sha256(rendered.files[wheel]).hexdigest()
        assert f"./{wheel} \\\n    --hash=sha256:{digest}\n" in text
        assert "agentdock" not in locked
        for line in text.splitlines():
            if line[:1].isalnum():
                assert "==" in line and line.rstrip().endswith("\\"), line  # pinned, hashes follow
        if flavour.startswith("lambda"):
            assert "aws-runtime" in extras  # Lambda defaults to the DynamoDB store


def test_the_lock_is_stable_for_the_same_inputs() -> None:
    loaded = load_dockfile(EXAMPLES[0], allow_unresolved=True)
    first = prepare(loaded, flavour="knative")
    second = prepare(loaded, flavour="knative")
    assert first.files["requirements.txt"] == second.files["requirements.txt"]
    assert first.content_hash == second.content_hash


def test_the_wheel_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = agentdock_wheel()
    monkeypatch.setenv("AGENTDOCK_CACHE", str(tmp_path / "cache"))  # cold: built again from source
    fresh = agentdock_wheel()
    assert fresh.sha256 == cached.sha256
    out = tmp_path / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "agentdock.build.wheel", "--out", str(out)], capture_output=True, text=True, check=True
    )
    assert cached.sha256 in proc.stdout
    assert (out / cached.name).read_bytes() == cached.data
