"""The HTTP routes of the runtime, bound to one app's ``Runtime`` bundle.

Routes are plain Starlette routes: each one is a guard call (permission per route), a
pipeline call and a response made from precomputed bytes. Permissions: /invoke, /stream,
/stream/{run_id}, /ws/stream -> ``invoke``; /metrics -> ``view_metrics``; /docs, /redoc, /openapi.json,
/schema -> ``read_docs`` unless ``auth.public_docs``; /health and /ready are public, and so is
the /docs page itself: a static shell that asks for the key and sends it (``docs_page.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pydantic_core
from fastapi.openapi.docs import get_redoc_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from agentdock.errors import NotReady, UnsupportedMediaType
from agentdock.runtime.arguments import body_limit
from agentdock.runtime.contract import IOContract, dumps_output
from agentdock.runtime.docs_page import swagger_page
from agentdock.runtime.host import AgentHost
from agentdock.runtime.pipeline import Pipeline
from agentdock.runtime.streaming import make_stream_endpoints
from agentdock.runtime.websocket import make_ws_endpoint
from agentdock.spec.models import DockSpec
from agentdock.telemetry.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from agentdock.telemetry.metrics import RuntimeMetrics

JSON = "application/json"
TRUNCATED_HEADER = "x-agentdock-truncated"


@dataclass
class Runtime:
    """Everything one app computes once: the spec, the pipeline, and the precomputed bodies."""

    spec: DockSpec
    version: str
    contract: IOContract
    pipeline: Pipeline
    host: AgentHost
    metrics: RuntimeMetrics
    openapi: dict[str, Any]
    started: float

    def __post_init__(self) -> None:
        self.openapi_body = pydantic_core.to_json(self.openapi)
        self.schema_body = pydantic_core.to_json(
            {"input_schema": self.contract.input_schema, "output_schema": self.contract.output_schema}
        )
        title = self.spec.agent.name
        # a static shell that asks for the key in the browser (docs_page.py)
        self.swagger_body = swagger_page(title, public=self.spec.auth.public_docs)
        self.redoc_body = bytes(get_redoc_html(openapi_url="/openapi.json", title=f"{title} - ReDoc").body)


_JSON_TYPES = ("application/json", "")


def require_json(request: Request) -> None:
    """415 for a body declared as anything but JSON (``text/plain``, forms): it is not parsed as
    JSON by accident, and a cross-site "simple" request (no CORS preflight) cannot reach the
    agent. No content-type at all is accepted as JSON."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media in _JSON_TYPES or media.endswith("+json"):
        return
    raise UnsupportedMediaType(
        f"content-type {media!r} is not accepted; send JSON with 'content-type: application/json'",
        path="headers.content-type",
        hint="add -H 'content-type: application/json'",
    )


def build_routes(rt: Runtime) -> list[BaseRoute]:
    spec, pipeline, host = rt.spec, rt.pipeline, rt.host
    guard = pipeline.guard
    public_docs = spec.auth.public_docs
    agent_name = spec.agent.name

    async def invoke(request: Request) -> Response:
        require_json(request)
        await guard(request, "invoke")
        payload = pipeline.prepare_body(await request.body())
        state = request.scope["state"]
        output, post = await pipeline.invoke(payload, pipeline.context(state["trace_id"], state))
        headers = {TRUNCATED_HEADER: "true"} if post.truncated else None
        return Response(dumps_output(output), headers=headers, media_type=JSON)

    async def schema(request: Request) -> Response:
        if not public_docs:
            await guard(request, "read_docs")
        return Response(rt.schema_body, media_type=JSON)

    async def openapi(request: Request) -> Response:
        if not public_docs:
            await guard(request, "read_docs")
        return Response(rt.openapi_body, media_type=JSON)

    async def docs(request: Request) -> Response:
        # No API data in the page: it asks for a key, then loads /openapi.json (guarded) with it.
        return HTMLResponse(rt.swagger_body)

    async def redoc(request: Request) -> Response:
        if not public_docs:
            await guard(request, "read_docs")
        return HTMLResponse(rt.redoc_body)

    async def health(request: Request) -> Response:
        # Cheap by design: the Lambda Web Adapter and Knative probe this; it never builds
        # or calls the graph.
        body = {
            "status": "ok",
            "agent": agent_name,
            "version": rt.version,
            "uptime_seconds": round(time.monotonic() - rt.started, 3),
        }
        return Response(pydantic_core.to_json(body), media_type=JSON)

    async def ready(request: Request) -> Response:
        if not host.ready:
            raise NotReady(
                "the agent is not loaded yet" if host.load_error is None else "the agent failed to load"
            )
        if not await pipeline.dependencies_ready():
            raise NotReady("the API key store is unavailable", path="auth.api_keys")
        return Response(b'{"status":"ready"}', media_type=JSON)

    async def metrics(request: Request) -> Response:
        await guard(request, "view_metrics")
        return Response(rt.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    routes: list[BaseRoute] = []
    if spec.expose.rest:
        routes.append(Route("/invoke", invoke, methods=["POST"]))
    if spec.expose.streaming == "sse":
        stream_get, stream_post, rejoin = make_stream_endpoints(pipeline)

        async def stream(request: Request) -> Any:
            if request.method == "POST":
                require_json(request)
                return await stream_post(request)
            return await stream_get(request)

        # One route for both methods: a 405 (e.g. OPTIONS) then names GET, HEAD and POST in Allow.
        routes.append(Route("/stream", stream, methods=["GET", "POST"]))
        routes.append(Route("/stream/{run_id}", rejoin, methods=["GET"]))
    if spec.expose.streaming == "websocket":
        routes.append(WebSocketRoute("/ws/stream", make_ws_endpoint(pipeline, body_limit(spec.arguments))))
    routes += [
        Route("/schema", schema, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/redoc", redoc, methods=["GET"]),
    ]
    return routes
