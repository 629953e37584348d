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
from pathlib import Path
from typing import Any

import pytest
from lghelpers import app_for, review_graph, review_spec

from agentdock.runtime.lambda_mangum import build_handler

pytestmark = pytest.mark.functional


CONTEXT = None  # the app reads nothing from the Lambda context object
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
    app, keys = app_for(spec, agent=review_graph())
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
