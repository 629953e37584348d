"""The LangGraph routes through the buffered Lambda flavour: real function-URL events into the
very handler class the image uses (``WarmMangum``), threads in SQLite across invocations.

The streaming flavour runs the same app under uvicorn behind the Lambda Web Adapter, which is
what the SDK tests exercise; here the point is the event mapping, the environment-long lifespan
(the checkpointer opens once) and that wait/stream answer within their own invocation.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lghelpers import principal_keys, review_graph, review_spec

from agentdock.policy import build_policy
from agentdock.runtime.app import create_app
from agentdock.runtime.components import Components
from agentdock.runtime.lambda_mangum import build_handler
from agentdock.security import build_authenticator, build_authorizer, build_rate_limiter

pytestmark = pytest.mark.functional


@dataclass
class Context:
    """The Lambda context object as the Python runtime passes it (the fields Mangum may read)."""

    function_name: str = "review-agent"
    function_version: str = "1"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:review-agent:live"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/review-agent"
    log_stream_name: str = "2026/12/05/[1]abcdef"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


CONTEXT = Context()
EVENT = Path(__file__).resolve().parents[1] / "lambda" / "events" / "lambda-function-url-event.json"


def event(method: str, path: str, key: str, body: Any = None) -> dict[str, Any]:
    sample = copy.deepcopy(json.loads(EVENT.read_text()))
    sample["rawPath"] = path
    sample["requestContext"]["http"].update({"method": method, "path": path})
    sample["headers"].update({"x-api-key": key, "content-type": "application/json", "accept": "*/*"})
    if body is not None:
        sample["body"] = json.dumps(body)
    return sample


def decoded(response: dict[str, Any]) -> str:
    body = response.get("body") or ""
    return base64.b64decode(body).decode() if response.get("isBase64Encoded") else body


def test_threads_and_runs_through_the_buffered_handler(tmp_path: Path) -> None:
    spec = review_spec("store", f"sqlite:///{tmp_path / 'agentdock.db'}")
    keys, resolver = principal_keys(spec.agent.name)
    components = Components(
        build_authenticator(spec, key_resolver=resolver),
        build_authorizer(spec),
        build_rate_limiter(spec),
        build_policy(spec),
    )
    app = create_app(spec, components=components, agent=review_graph(), log_sink=lambda line: None)
    handler = build_handler(app)
    try:
        key = keys["alice"]
        created = handler(event("POST", "/threads", key, {}), CONTEXT)
        assert created["statusCode"] == 200
        tid = json.loads(decoded(created))["thread_id"]
        paused = handler(
            event(
                "POST",
                f"/threads/{tid}/runs/wait",
                key,
                {"assistant_id": "review_agent", "input": {"request": "L1"}},
            ),
            CONTEXT,
        )
        assert "__interrupt__" in json.loads(decoded(paused))
        streamed = handler(
            event(
                "POST",
                f"/threads/{tid}/runs/stream",
                key,
                {"assistant_id": "review_agent", "command": {"resume": "yes"}, "stream_mode": "values"},
            ),
            CONTEXT,
        )
        text = decoded(streamed)
        assert streamed["headers"]["content-type"].startswith("text/event-stream")
        assert "event: metadata" in text and '"approved":true' in text
        other = handler(event("GET", f"/threads/{tid}", keys["bob"]), CONTEXT)
        assert other["statusCode"] == 404
    finally:
        handler.close()
