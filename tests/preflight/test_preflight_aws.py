"""The preflight against AWS stand-ins (a moto server over HTTP): an API key minted into the
DynamoDB store the function reads, and a JWT secret the function resolves from Secrets Manager
at start-up. No secret value reaches the context, the result or an error."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest

from agentdock.build import build_context
from agentdock.build.context import read_context
from agentdock.errors import PreflightFailed
from agentdock.preflight import preflight
from agentdock.preflight.targetenv import target_env
from agentdock.store import open_store
from tests.preflight.conftest import DEFAULT_EXAMPLE, copy_example

pytestmark = pytest.mark.integration

SECRET = "preflight-jwt-" + uuid.uuid4().hex  # >= 16 chars, unique: the scan looks for it


def _dockfile(auth: str, deploy: str) -> str:
    text = (DEFAULT_EXAMPLE / "Dockfile.yaml").read_text()
    head, _, _ = text.partition("auth:")
    return head + auth + "expose:\n  streaming: sse\n" + deploy


def _run(tmp_path: Path, dockfile_text: str, moto: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)  # the preflight's own SDK calls (minting, resolving)
    dockfile = copy_example(tmp_path / "agent", dockfile_text)
    ctx = Path(build_context(dockfile, flavour="lambda-stream", out_dir=tmp_path / "ctx").context_dir)
    raw = json.loads((ctx / "agent" / "agentdock.spec.json").read_text())
    tenv = target_env(
        raw, values={}, store_url=raw["deploy"].get("store"), endpoint_url=moto, region="us-east-1", aws=True
    )
    assert tenv.missing == []
    return ctx, {"target_env": tenv.env, "secret_names": tenv.secret_names}


def test_api_key_minted_into_the_dynamodb_store(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = f"pf-{uuid.uuid4().hex[:8]}"
    store_url = f"dynamodb://{table}?region=us-east-1&endpoint_url={moto_server}"
    ctx, kw = _run(
        tmp_path,
        _dockfile(
            "auth:\n  mode: api_key\n  api_keys:\n    enabled: true\n", f"deploy:\n  store: {store_url}\n"
        ),
        moto_server,
        monkeypatch,
    )
    result = preflight(ctx, timeout_s=90, **kw)
    assert result["auth"].startswith("API key minted into the function's store")
    assert result["invoke"] == "ok" and result["stream_events"] >= 1
    keys = open_store(store_url).list_keys("doc_summarizer")
    assert len(keys) == 1 and keys[0].revoked_at is not None  # revoked once the checks ran


def test_jwt_secret_resolved_from_secrets_manager(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"agentdock/pf/{uuid.uuid4().hex[:8]}"
    sm = boto3.client("secretsmanager", endpoint_url=moto_server, region_name="us-east-1")
    sm.create_secret(Name=name, SecretString=SECRET)
    ctx, kw = _run(
        tmp_path,
        _dockfile(
            "auth:\n  mode: jwt\n  jwt:\n    secret_key: ${JWT_SECRET}\n",
            f"deploy:\n  secrets:\n    JWT_SECRET: aws-sm://{name}\n",
        ),
        moto_server,
        monkeypatch,
    )
    assert "JWT_SECRET" not in kw["target_env"]  # the function reads it from Secrets Manager itself
    result = preflight(ctx, timeout_s=90, **kw)
    assert result["auth"].startswith("JWT signed with the resolved secret")
    assert result["invoke"] == "ok"
    # no secret value in any artifact: the context's files and the result
    for rel, data in read_context(ctx).items():
        assert SECRET.encode() not in data, rel
    assert SECRET not in json.dumps(result)


def test_a_secret_without_a_source_fails_without_printing_values(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, kw = _run(
        tmp_path,
        _dockfile(
            "auth:\n  mode: jwt\n  jwt:\n    secret_key: ${JWT_SECRET}\n",
            f"deploy:\n  secrets:\n    JWT_SECRET: aws-sm://agentdock/pf/missing-{uuid.uuid4().hex[:6]}\n",
        ),
        moto_server,
        monkeypatch,
    )
    with pytest.raises(PreflightFailed) as err:
        preflight(ctx, timeout_s=60, **kw)
    text = f"{err.value.cause} {err.value.hint}"
    assert "JWT_SECRET" in text
    assert kw["target_env"]["AWS_SECRET_ACCESS_KEY"] not in str(err.value.hint).replace(
        "AWS_SECRET_ACCESS_KEY", ""
    )
