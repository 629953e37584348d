"""The buffered flavour's Mangum handler with the real event samples (shared/specs/, copied to events/).

Each sample goes through ``build_handler`` (the very class ``agentdock.runtime.lambda_handler``
builds at import) into an echo app, and the whole response dict is compared with ``==``
(mangum's own habit): method, path, raw query string, headers, cookies and body must all arrive,
and the response must be a payload-2.0 answer (cookies list, base64 only for binary bodies).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from agentdock.runtime.lambda_mangum import WarmMangum, build_handler

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parent / "events"  # verbatim copies of shared/specs/ samples


@dataclass
class Context:
    """The Lambda context object as the Python runtime passes it (the fields Mangum may read)."""

    function_name: str = "doc-summarizer"
    function_version: str = "3"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:doc-summarizer:live"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/doc-summarizer"
    log_stream_name: str = "2026/11/22/[3]abcdef"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


CONTEXT = Context()


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def echo_app() -> tuple[FastAPI, dict[str, int]]:
    counters = {"startup": 0, "shutdown": 0}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        counters["startup"] += 1
        yield {"graph": "loaded once"}
        counters["shutdown"] += 1

    app = FastAPI(lifespan=lifespan)

    @app.get("/binary")
    async def binary() -> Response:
        return Response(content=bytes(range(256)), media_type="application/octet-stream")

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def echo(request: Request, path: str) -> JSONResponse:
        body = await request.body()
        response = JSONResponse(
            {
                "method": request.method,
                "path": "/" + path,
                "query": request.url.query,
                "header1": request.headers.get("header1"),
                "header2": request.headers.get("header2"),
                "raw_cookie": request.headers.get("cookie"),
                "body": body.decode("latin-1"),
                "state": request.state.graph,
                "client": request.client.host if request.client else None,
            }
        )
        response.set_cookie("session", "abc")
        response.set_cookie("theme", "dark")
        return response

    return app, counters


def json_body(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def expected(body: dict[str, Any]) -> dict[str, Any]:
    text = json_body(body)
    return {
        "statusCode": 200,
        "headers": {"content-length": str(len(text.encode())), "content-type": "application/json"},
        "cookies": ["session=abc; Path=/; SameSite=lax", "theme=dark; Path=/; SameSite=lax"],
        "body": text,
        "isBase64Encoded": False,
    }


@pytest.fixture
def handler() -> Iterator[tuple[WarmMangum, dict[str, int]]]:
    app, counters = echo_app()
    built = build_handler(app)
    yield built, counters
    built.close()


def test_function_url_get_event(handler: tuple[WarmMangum, dict[str, int]]) -> None:
    run, _ = handler
    response = run(sample("lambda-function-url-event.json"), CONTEXT)
    assert response == expected(
        {
            "method": "GET",
            "path": "/",
            "query": "",
            "header1": None,
            "header2": None,
            "raw_cookie": None,
            "body": "",
            "state": "loaded once",
            "client": "123.123.123.123",
        }
    )


def test_function_url_iam_post_event(handler: tuple[WarmMangum, dict[str, int]]) -> None:
    run, _ = handler
    response = run(sample("lambda-function-url-iam-post-event.json"), CONTEXT)
    assert response == expected(
        {
            "method": "POST",
            "path": "/my/path",
            "query": "parameter1=value1&parameter1=value2&parameter2=value",
            "header1": "value1",
            "header2": "value1,value2",
            "raw_cookie": "cookie1; cookie2",
            "body": "Hello from client!",
            "state": "loaded once",
            "client": "123.123.123.123",
        }
    )


def test_http_api_v2_event(handler: tuple[WarmMangum, dict[str, int]]) -> None:
    run, _ = handler
    response = run(sample("apigw-http-api-v2-event.json"), CONTEXT)
    assert response == expected(
        {
            "method": "POST",
            "path": "/my/path",
            "query": "parameter1=value1&parameter1=value2&parameter2=value",
            "header1": "value1",
            "header2": "value1,value2",
            "raw_cookie": "cookie1; cookie2",
            "body": '{"message": "hello world", "username": "tom"}',
            "state": "loaded once",
            "client": "192.168.0.1/32",
        }
    )


def test_base64_request_body_named_cookies_and_binary_response(
    handler: tuple[WarmMangum, dict[str, int]],
) -> None:
    run, _ = handler
    event = copy.deepcopy(sample("lambda-function-url-iam-post-event.json"))
    raw = bytes([0, 1, 2, 250, 255])
    event.update(body=base64.b64encode(raw).decode(), isBase64Encoded=True, cookies=["a=1", "b=two"])
    event["requestContext"]["http"]["path"] = "/upload"
    response = run(event, CONTEXT)
    assert json.loads(response["body"])["body"] == raw.decode("latin-1")
    assert json.loads(response["body"])["raw_cookie"] == "a=1; b=two"

    event["requestContext"]["http"].update(path="/binary", method="GET")
    event.update(body="", isBase64Encoded=False)
    assert run(event, CONTEXT) == {
        "statusCode": 200,
        "headers": {"content-length": "256", "content-type": "application/octet-stream"},
        "body": base64.b64encode(bytes(range(256))).decode(),
        "isBase64Encoded": True,
    }


def test_lifespan_starts_once_for_many_invocations() -> None:
    app, counters = echo_app()
    run = build_handler(app)
    assert counters == {"startup": 1, "shutdown": 0}  # at init, before any request
    for _ in range(3):
        assert run(sample("lambda-function-url-event.json"), CONTEXT)["statusCode"] == 200
    assert counters == {"startup": 1, "shutdown": 0}
    run.close()
    run.close()
    assert counters == {"startup": 1, "shutdown": 1}
