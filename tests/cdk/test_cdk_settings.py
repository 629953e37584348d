"""AgentFunction's settings as plain data (no synthesis): Dockfile block, props laid over it, the
flavour's invoke mode, secret references, and the clear errors for what cannot work on Lambda."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cdkhelpers import EXAMPLES, write_buffered_project

from agentdock.build.flavours import InvokeMode
from agentdock.errors import CdkConfigError
from agentdock.spec import load_dockfile

pytestmark = pytest.mark.unit


def settings(dockfile: Path, **overrides: Any) -> Any:
    from agentdock.cdk.settings import resolve_settings

    loaded = load_dockfile(dockfile, allow_unresolved=True, check_imports=False)
    return resolve_settings(loaded.spec, loaded.raw, overrides)


def test_dockfile_block_then_props(tmp_path: Path) -> None:
    s = settings(write_buffered_project(tmp_path), memory_mb=1536, url_auth=None)
    assert (s.function_name, s.flavour, s.invoke_mode) == (
        "quiet-summarizer",
        "lambda-buffered",
        InvokeMode.BUFFERED,
    )
    assert (s.lambda_.memory_mb, s.lambda_.timeout_s, s.lambda_.architecture) == (1536, 120, "x86_64")
    assert s.url_auth == "AWS_IAM" and s.cors is None
    assert [(r.var, r.service, r.name, r.is_arn) for r in s.secret_refs] == [
        (
            "JWT_SECRET",
            "secretsmanager",
            "arn:aws:secretsmanager:eu-west-1:111111111111:secret:prod/jwt-AbCdEf",
            True,
        ),
        ("LANGFUSE_SECRET_KEY", "ssm", "/agents/langfuse", False),
        ("OPENAI_API_KEY", "secretsmanager", "prod/openai", False),
    ]
    env = s.environment(content_hash="sha256:x", store_url="dynamodb://t?region=eu-west-1")
    assert (
        env["AWS_LWA_INVOKE_MODE"] == "buffered" and env["AGENTDOCK_STORE"] == "dynamodb://t?region=eu-west-1"
    )
    assert s.env_vars == ()  # every ${VAR} has a Secrets Manager / SSM source


def test_streaming_example_and_env_sourced_references() -> None:
    s = settings(EXAMPLES / "invoice_copilot" / "Dockfile.yaml")
    assert (s.invoke_mode, s.lambda_.architecture, s.url_auth) == (
        InvokeMode.RESPONSE_STREAM,
        "arm64",
        "NONE",
    )
    assert s.cors["AllowOrigins"] == ["https://billing.example.com"]
    assert s.env_vars == ("JWT_SECRET", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")


@pytest.mark.parametrize(
    ("overrides", "path", "words"),
    [
        ({"memory_mb": 64}, "AgentFunction.memory_mb", "greater than or equal to 128"),
        ({"architecture": "sparc"}, "AgentFunction.architecture", "arm64"),
        ({"url_auth": "open"}, "AgentFunction.url_auth", "none"),
        ({"image": "x"}, "AgentFunction.image", "not a deploy.lambda setting"),
    ],
)
def test_bad_props_fail_like_bad_dockfile_fields(overrides: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(CdkConfigError) as info:
        settings(EXAMPLES / "doc_summarizer" / "Dockfile.yaml", **overrides)
    assert info.value.path == path and words in str(info.value) and info.value.code == 5330


def test_secret_sources_a_lambda_function_cannot_read() -> None:
    from agentdock.cdk.settings import secret_refs

    with pytest.raises(CdkConfigError) as info:
        secret_refs({"DB_PASSWORD": "k8s://db/password"})
    assert info.value.path == "deploy.secrets.DB_PASSWORD" and "aws-sm://" in (info.value.hint or "")
    with pytest.raises(CdkConfigError, match="names no secret"):
        secret_refs({"X": "aws-sm://#key"})
    assert secret_refs({"A": "env", "B": "ssm://plain"})[0].name == "plain"


def test_deployment_presets_and_store_urls(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from agentdock.cdk import PRESETS, AgentFunction
    from agentdock.cdk.deployment import deployment_config

    assert (
        deployment_config("CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
        is PRESETS["Linear10PercentEvery1Minute"]
    )
    with pytest.raises(CdkConfigError, match="unknown deployment preset"):
        deployment_config("Canary50Percent")
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "out")), "S")
    with pytest.raises(CdkConfigError) as info:
        AgentFunction(
            stack, "A", dockfile=EXAMPLES / "doc_summarizer" / "Dockfile.yaml", store_url="postgresql://h/db"
        )
    assert info.value.path == "AgentFunction.store_url"
    alarm = cdk.aws_cloudwatch.Alarm.from_alarm_arn(
        stack, "Mine", "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:x"
    )
    with pytest.raises(CdkConfigError) as info:
        AgentFunction(stack, "B", dockfile=EXAMPLES / "doc_summarizer" / "Dockfile.yaml", alarms=[alarm])
    assert info.value.path == "AgentFunction.alarms" and "deployment=" in (info.value.hint or "")
