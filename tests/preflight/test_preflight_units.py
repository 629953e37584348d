"""Pure pieces of the build and the preflight: which extras a Dockfile needs, the LWA healthy
status list, sample inputs from a schema, the Dockerfile's ENV/CMD, the base image's Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdock.build.flavours import platform_for
from agentdock.build.requirements import runtime_extras
from agentdock.errors import BuildError
from agentdock.preflight.dockerfile import image_config
from agentdock.preflight.samples import sample_input
from agentdock.preflight.targetenv import references, target_env
from agentdock.preflight.transports import function_url_event, parse_statuses
from agentdock.spec.frozen import spec_from_frozen

pytestmark = pytest.mark.unit

BASE = {
    "version": "1.0",
    "agent": {"name": "a_b", "entrypoint": "agent:build", "framework": "langgraph"},
    "model": {"provider": "openai", "name": "gpt-4o-mini"},
    "io_schema": {"input": {"type": "object"}, "output": {"type": "object"}},
    "auth": {"mode": "api_key", "api_keys": {"enabled": True}},
}


def _spec(**deploy: object) -> object:
    return spec_from_frozen({**BASE, "deploy": deploy} if deploy else dict(BASE))


def test_extras_follow_the_store_the_secrets_and_the_target() -> None:
    assert runtime_extras("knative", _spec()) == ("runtime",)
    assert runtime_extras("lambda-stream", _spec()) == ("runtime", "aws-runtime", "lambda")
    assert runtime_extras("knative", _spec(store="postgresql://u@h/db")) == ("runtime", "postgres")
    assert runtime_extras("cloudrun", _spec(store="dynamodb://t")) == ("runtime", "aws-runtime")
    assert runtime_extras("knative", _spec(secrets={"X": "ssm://p"})) == ("runtime", "aws-runtime")
    assert runtime_extras("knative", _spec(secrets={"X": "k8s://s/k"})) == ("runtime",)
    threads = {**BASE, "state": {"checkpointer": "store"}}
    assert runtime_extras(
        "knative", spec_from_frozen({**threads, "deploy": {"store": "sqlite:///a.db"}})
    ) == (
        "runtime",
        "threads-sqlite",
    )
    on_pg = {**threads, "state": {"checkpointer": "store", "url": "postgresql://u@h/db"}}
    assert runtime_extras("knative", spec_from_frozen(on_pg)) == ("runtime", "postgres")
    on_ddb = {**threads, "state": {"checkpointer": "store", "url": "dynamodb://t?region=us-east-1"}}
    assert runtime_extras("knative", spec_from_frozen(on_ddb)) == ("runtime", "aws-runtime")
    assert runtime_extras("knative", spec_from_frozen({**BASE, "state": {"checkpointer": "memory"}})) == (
        "runtime",
    )


def test_platform_comes_from_the_architecture_and_the_base_tag() -> None:
    spec = spec_from_frozen({**BASE, "deploy": {"lambda": {"architecture": "x86_64"}}})
    assert platform_for("lambda-buffered", spec).docker_platform == "linux/amd64"
    assert platform_for("lambda-stream", _spec()).arch == "arm64"
    assert platform_for("knative", None, "python:3.12.8-slim-bookworm").python == "3.12"
    with pytest.raises(BuildError, match="cannot tell which Python"):
        platform_for("knative", None, "ubuntu:24.04")


def test_lwa_healthy_statuses() -> None:
    assert parse_statuses("200-202,301, x,404") == {200, 201, 202, 301, 404}
    assert 499 in parse_statuses("100-499") and 500 not in parse_statuses("100-499")


def test_sample_input_satisfies_the_schema_shape() -> None:
    schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "maxLength": 5},
            "n": {"type": "integer", "minimum": 3},
            "lang": {"enum": ["fr", "de"]},
            "opt": {"type": "string"},
        },
        "required": ["text", "n", "lang"],
    }
    assert sample_input(schema) == {"text": "Hello", "n": 4, "lang": "fr"}


def test_function_url_event_is_payload_2() -> None:
    event = function_url_event("POST", "/invoke?x=1", {"X-Api-Key": "k"}, b"{}")
    assert event["version"] == "2.0" and event["rawPath"] == "/invoke" and event["rawQueryString"] == "x=1"
    assert event["requestContext"]["http"]["method"] == "POST" and event["headers"]["x-api-key"] == "k"
    assert event["isBase64Encoded"] is True


def test_dockerfile_env_and_cmd(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        'FROM x\nENV A=1 \\\n    B="two words"\nWORKDIR /app\nCMD ["sh", "-c", "exec python -m uvicorn entry:app"]\n'
    )
    cfg = image_config(tmp_path)
    assert cfg.env == {"A": "1", "B": "two words"} and cfg.workdir == "/app"
    assert cfg.cmd[-1] == "exec python -m uvicorn entry:app"


def test_target_env_takes_values_only_from_what_it_is_given() -> None:
    raw = {
        "auth": {"jwt": {"secret_key": "${JWT_SECRET}"}},
        "x": ["${OTHER}", "${SM}"],
        "deploy": {"secrets": {"SM": "aws-sm://n"}},
    }
    assert references(raw) == {"JWT_SECRET", "OTHER", "SM"}
    out = target_env(raw, values={"JWT_SECRET": "v" * 20}, store_url="dynamodb://t")
    assert out.env == {"JWT_SECRET": "v" * 20, "AGENTDOCK_STORE": "dynamodb://t"}
    assert out.missing == ["OTHER"]  # SM is resolved by the function from Secrets Manager
    assert {"JWT_SECRET", "OTHER", "SM"} <= out.secret_names


def test_target_env_sets_deploy_env_and_does_not_treat_its_references_as_secrets() -> None:
    from agentdock.spec.models import DockSpec

    raw = {"deploy": {"env": {"LEVEL": "${LOG}"}, "secrets": {}}, "auth": {"jwt": {"secret_key": "${JWT}"}}}
    assert references(raw) == {"JWT"}  # LOG is resolved by the deploy, not by the function
    spec = DockSpec.model_validate(
        {
            "version": "1.0",
            "agent": {"name": "agent-a", "entrypoint": "agent:build", "framework": "langgraph"},
            "model": {"provider": "openai", "name": "gpt-4o-mini"},
            "io_schema": {"input": {"type": "object"}, "output": {"type": "object"}},
            "auth": {"mode": "api_key", "api_keys": {"enabled": True}},
            "deploy": {"env": {"LEVEL": "debug"}},
        }
    )
    out = target_env(raw, values={"JWT": "j" * 20}, spec=spec)
    assert out.env == {"LEVEL": "debug", "JWT": "j" * 20}
    assert "LEVEL" not in out.secret_names and out.missing == []
