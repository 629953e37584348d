"""The LangGraph API through the preflight, on the Lambda flavour as the platform runs it.

invoice_copilot's ``lambda-stream`` context runs from its locked environment in the sandbox,
reached through LWA's contract, with the store a Lambda deploy gives it: DynamoDB (a moto server
here), where its threads live (``state: {checkpointer: store}``). The preflight's own LangGraph
checks pass, and the real ``langgraph_sdk`` client, pointed at the running function, does the
issue's done-when with a key from ``agentdock keys create``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentdock.build import build_context
from agentdock.cli.main import app
from agentdock.preflight import preflight, running
from agentdock.preflight.targetenv import target_env
from tests.e2e.sdkflow import AGENT, continues, done_when
from tests.preflight.conftest import ROOT

pytestmark = pytest.mark.integration

EXAMPLE = ROOT / "examples" / "invoice_copilot"
VALUES = {"JWT_SECRET": "j" * 40, "LANGFUSE_PUBLIC_KEY": "pk-lf-test", "LANGFUSE_SECRET_KEY": "sk-lf-test"}


def _cli(*args: str) -> dict[str, Any]:
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.stdout
    return dict(json.loads(out.stdout))


def _lambda_env(ctx: Path, moto: str) -> tuple[str, dict[str, Any]]:
    """The environment a Lambda deploy gives the function: its DynamoDB store (initialised, as a
    deploy does), the env-sourced secrets, the role's credentials and the endpoint."""
    store_url = f"dynamodb://pf-lg-{uuid.uuid4().hex[:8]}?region=us-east-1&endpoint_url={moto}"
    _cli("store", "init", "--store", store_url)
    raw = json.loads((ctx / "agent" / "agentdock.spec.json").read_text())
    tenv = target_env(
        raw, values=VALUES, store_url=store_url, endpoint_url=moto, region="us-east-1", aws=True
    )
    assert tenv.missing == []
    return store_url, {"target_env": tenv.env, "secret_names": tenv.secret_names}


@pytest.fixture(scope="module")
def invoice_contexts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("invoice")
    return {
        flavour: Path(
            build_context(EXAMPLE / "Dockfile.yaml", flavour=flavour, out_dir=out / flavour).context_dir
        )
        for flavour in ("lambda-stream", "lambda-buffered")
    }


@pytest.fixture
def invoice_lambda(invoice_contexts: dict[str, Path]) -> Path:
    return invoice_contexts["lambda-stream"]


@pytest.mark.parametrize("flavour", ["lambda-stream", "lambda-buffered"])
def test_preflight_checks_the_langgraph_api_with_threads_in_dynamodb(
    invoice_contexts: dict[str, Path], flavour: str, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streaming through LWA, buffered through function-URL events (the stream arrives whole)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    _, kw = _lambda_env(invoice_contexts[flavour], moto_server)
    result = preflight(invoice_contexts[flavour], timeout_s=90, **kw)
    assert result["flavour"] == flavour and result["invoke"] == "ok"
    seen = result["langgraph"]
    assert (seen["assistants"], seen["checkpointer"], seen["threads_in"], seen["thread_runs"]) == (
        1,
        "store",
        "dynamodb",
        2,
    )
    assert seen["messages"] == [4, 8]  # the second run carried the first run's four messages
    events = seen["stream_events"]
    assert list(events)[0] == "metadata" and events["values"] >= 1 and events["messages"] > 1


def test_langgraph_sdk_against_the_preflight_run_lambda_image(
    invoice_lambda: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    store_url, kw = _lambda_env(invoice_lambda, moto_server)
    key = _cli("keys", "create", AGENT, "--role", "developer", "--store", store_url)["key"]
    with running(invoice_lambda, timeout_s=90, **kw) as function:
        assert function.url is not None
        thread_id, count = done_when(function.url, key)
    # A cold start of another instance (here: the same image again) finds the thread in DynamoDB.
    with running(invoice_lambda, timeout_s=90, **kw) as function:
        assert function.url is not None
        continues(function.url, key, thread_id, count)


def test_the_cli_reports_the_langgraph_checks(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``agentdock preflight --target lambda`` as a user runs it against an emulator: the JSON
    result and the human summary both say what the LangGraph API checks saw."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    store_url = f"dynamodb://pf-lg-{uuid.uuid4().hex[:8]}?region=us-east-1&endpoint_url={moto_server}"
    _cli("store", "init", "--store", store_url)
    args = ["preflight", str(EXAMPLE / "Dockfile.yaml"), "-t", "lambda", "--store", store_url]
    args += ["--endpoint-url", moto_server, "--region", "us-east-1", "--timeout", "90"]
    args += [a for name, value in VALUES.items() for a in ("--env", f"{name}={value}")]
    data = _cli(*args)
    assert data["flavour"] == "lambda-stream"
    assert data["langgraph"]["thread_runs"] == 2 and data["langgraph"]["messages"] == [4, 8]
    human = CliRunner().invoke(app, args)
    assert human.exit_code == 0, human.stdout
    assert (
        "LangGraph API: assistants/search (1), threads (store: dynamodb): 2 runs/wait with memory"
        in human.stdout
    )
