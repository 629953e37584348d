"""The image entry point: frozen spec + run-time secret resolution + a light import path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from rthelpers import client_for

from agentdock.errors import RuntimeStartupError, SecretResolutionError
from agentdock.runtime.app import app_from_frozen
from agentdock.runtime.secrets import SecretResolver, resolve_frozen
from agentdock.security.apikeys import generate_api_key
from agentdock.spec import load_dockfile

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEAVY = ("boto3", "botocore", "typer", "jinja2", "kubernetes")


def _frozen_copy(tmp_path: Path, example: str, patch: dict[str, Any] | None = None) -> Path:
    """A build-context-like folder: the agent's files and spec.json with ${VAR} kept."""
    source = EXAMPLES / example
    for item in source.iterdir():
        if item.suffix == ".py":
            shutil.copy(item, tmp_path / item.name)
    raw = load_dockfile(source / "Dockfile.yaml", allow_unresolved=True, check_imports=False).raw
    raw.update(patch or {})
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.mark.integration
def test_runtime_import_path_does_not_import_deploy_packages(tmp_path: Path) -> None:
    spec_path = _frozen_copy(tmp_path, "doc_summarizer")
    key = generate_api_key(pepper="")
    code = (
        "import json, sys\n"
        "import agentdock.runtime.app as runtime\n"
        f"after_import = [m for m in {HEAVY!r} if m in sys.modules]\n"
        f"app = runtime.app_from_frozen({str(spec_path)!r})\n"
        f"after_build = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps([after_import, after_build]))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "AGENTDOCK_BOOTSTRAP_KEY_HASH": f"{key.key_id}:developer:{key.key_hash}",
        "AGENTDOCK_FAKE_MODEL": "1",
    }
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    after_import, after_build = json.loads(result.stdout.strip().splitlines()[-1])
    assert after_import == [] and after_build == []


@pytest.mark.functional
async def test_app_from_frozen_resolves_env_and_k8s_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets_dir = tmp_path / "mounted"
    (secrets_dir / "jwt").mkdir(parents=True)
    (secrets_dir / "jwt" / "secret").write_text("k" * 40 + "\n")
    patch = {
        "auth": {"mode": "jwt", "jwt": {"secret_key": "${JWT_SECRET}"}, "public_docs": True},
        "deploy": {"secrets": {"JWT_SECRET": "k8s://jwt/secret"}},
        "metadata": {"version": "${APP_LABEL:-v-default}"},
    }
    spec_path = _frozen_copy(tmp_path, "doc_summarizer", patch)
    monkeypatch.setenv("AGENTDOCK_SECRETS_DIR", str(secrets_dir))
    monkeypatch.setenv("AGENTDOCK_SPEC", str(spec_path))
    monkeypatch.setenv("AGENTDOCK_FAKE_MODEL", "1")
    monkeypatch.delenv("AGENTDOCK_VERSION", raising=False)
    app = app_from_frozen()
    spec = app.state.runtime.spec
    assert spec.auth.jwt.secret_key == "k" * 40
    assert spec.metadata.version == "v-default"
    from agentdock.security.jwt import issue_token

    token = issue_token(spec, sub="ci", role="developer", ttl_s=60)
    async with client_for(app) as client:
        response = await client.post(
            "/invoke", json={"text": "One. Two."}, headers={"authorization": f"Bearer {token}"}
        )
        health = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"summary": "One."}
    assert health.json()["version"] == "v-default"
    assert "k" * 40 not in spec_path.read_text()


@pytest.mark.unit
def test_unresolved_references_fail_startup_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch = {"auth": {"mode": "jwt", "jwt": {"secret_key": "${NOT_SET_ANYWHERE}"}}}
    spec_path = _frozen_copy(tmp_path, "doc_summarizer", patch)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(SecretResolutionError) as info:
        app_from_frozen(spec_path)
    assert "auth.jwt.secret_key" in info.value.path
    with pytest.raises(RuntimeStartupError):
        monkeypatch.delenv("AGENTDOCK_SPEC", raising=False)
        app_from_frozen()


@pytest.mark.unit
def test_k8s_falls_back_to_env_and_unknown_sources_are_refused(tmp_path: Path) -> None:
    resolver = SecretResolver(
        {"A": "k8s://s/a", "B": "env"}, env={"A": "from-env", "B": "b"}, secrets_dir=tmp_path
    )
    assert resolver.lookup("A") == "from-env"
    assert resolver.lookup("B") == "b"
    assert resolver.lookup("C") is None
    with pytest.raises(SecretResolutionError):
        SecretResolver({"A": "vault://x"})
    with pytest.raises(SecretResolutionError):
        SecretResolver({"A": "k8s://../etc"}, env={}).lookup("A")


@pytest.mark.integration
def test_aws_secrets_manager_and_ssm_over_moto(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="prod/agent/jwt", SecretString=json.dumps({"key": "j" * 32, "n": 3}))
    sm.create_secret(Name="prod/agent/plain", SecretString="plain-value")
    boto3.client("ssm").put_parameter(Name="/prod/agent/lf", Value="lf-secret", Type="SecureString")
    sources = {
        "JWT": "aws-sm://prod/agent/jwt#key",
        "NUM": "aws-sm://prod/agent/jwt#n",
        "PLAIN": "aws-sm://prod/agent/plain",
        "LF": "ssm:///prod/agent/lf",
        "MISSING": "aws-sm://prod/agent/none",
        "BADKEY": "aws-sm://prod/agent/jwt#nope",
    }
    resolver = SecretResolver(sources, env={})
    data = resolve_frozen(
        {"a": "${JWT}", "b": "n=${NUM}", "c": ["${PLAIN}"], "d": {"e": "${LF}"}}, resolver=resolver
    )
    assert data == {"a": "j" * 32, "b": "n=3", "c": ["plain-value"], "d": {"e": "lf-secret"}}
    with pytest.raises(SecretResolutionError) as missing:
        resolver.lookup("MISSING")
    assert "ResourceNotFoundException" in missing.value.cause
    with pytest.raises(SecretResolutionError) as badkey:
        resolver.lookup("BADKEY")
    assert "j" * 32 not in str(badkey.value)


@pytest.mark.unit
@pytest.mark.parametrize("ref", ["k8s://a/../outside.txt", "k8s://a/b/../../outside.txt", "k8s://a//tmp/x"])
def test_k8s_references_cannot_leave_the_secrets_folder(tmp_path: Path, ref: str) -> None:
    secrets = tmp_path / "secrets"
    (secrets / "a").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("outside-value")
    with pytest.raises(SecretResolutionError) as info:
        SecretResolver({"A": ref}, env={}, secrets_dir=secrets).lookup("A")
    assert "inside the secrets folder" in info.value.cause and "outside-value" not in str(info.value)


@pytest.mark.unit
def test_k8s_symlink_out_of_the_secrets_folder_is_refused(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    (secrets / "a").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("outside-value")
    (secrets / "a" / "key").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(SecretResolutionError):
        SecretResolver({"A": "k8s://a/key"}, env={}, secrets_dir=secrets).lookup("A")
    (secrets / "b").mkdir()
    (secrets / "b" / "key").write_text("inside\n")
    assert SecretResolver({"B": "k8s://b/key"}, env={}, secrets_dir=secrets).lookup("B") == "inside"


@pytest.mark.unit
def test_resolved_secrets_are_cached_for_a_ttl_not_forever() -> None:
    class FakeSSM:
        calls = 0

        def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
            FakeSSM.calls += 1
            return {"Parameter": {"Value": f"v{FakeSSM.calls}"}}

    now = [0.0]
    resolver = SecretResolver(
        {"A": "ssm://p"}, env={}, client_factory=lambda _: FakeSSM(), ttl_s=60, clock=lambda: now[0]
    )
    assert resolver.lookup("A") == "v1"
    now[0] = 59.0
    assert resolver.lookup("A") == "v1"  # cached within the TTL
    now[0] = 61.0
    assert resolver.lookup("A") == "v2"  # a rotated secret is picked up after the TTL


@pytest.mark.integration
def test_the_image_entry_point_freezes_the_startup_heap_once_the_graph_is_built(tmp_path: Path) -> None:
    """An image serves one app for its life: what startup built (the graph included) is out of
    the cyclic GC's full passes, as with ``agentdock serve`` (bench/README.md). In a subprocess,
    so this test process keeps its own collector as it is."""
    spec_path = _frozen_copy(tmp_path, "doc_summarizer")
    key = generate_api_key(pepper="")
    code = (
        "import asyncio, gc, json\n"
        "from agentdock.runtime.app import app_from_frozen\n"
        f"app = app_from_frozen({str(spec_path)!r})\n"
        "before = gc.get_freeze_count()\n"
        "async def main():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        graph = app.state.runtime.host.agent\n"
        "        young = any(o is graph for o in gc.get_objects())\n"
        "        print(json.dumps([before, gc.get_freeze_count(), young]))\n"
        "asyncio.run(main())\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "AGENTDOCK_BOOTSTRAP_KEY_HASH": f"{key.key_id}:developer:{key.key_hash}",
        "AGENTDOCK_FAKE_MODEL": "1",
        "AGENTDOCK_HOME": str(tmp_path / "home"),
    }
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    before, after, graph_young = json.loads(result.stdout.strip().splitlines()[-1])
    assert before == 0 and after > 10_000
    assert graph_young is False  # the built graph is among the frozen objects
