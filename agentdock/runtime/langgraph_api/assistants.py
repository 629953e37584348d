"""Assistant routes: an AgentDock endpoint serves one assistant, the agent itself.

Its ``assistant_id``, ``graph_id`` and ``name`` are the agent name, so clients written for
the reference server (``assistant_id="invoice_copilot"``) work unchanged. Creating, updating
or versioning assistants is not offered: the Dockfile is the assistant's configuration.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from agentdock.errors import NotFound
from agentdock.runtime.langgraph_api.models import AssistantSearch, parse
from agentdock.runtime.langgraph_api.runs import json_response
from agentdock.runtime.langgraph_api.service import LangGraphAPI
from agentdock.runtime.langgraph_api.wire import assistant, now_iso


def _schema(make: Any) -> dict[str, Any] | None:
    try:
        schema: dict[str, Any] = make()
        return schema
    except Exception:  # a graph whose state has no JSON Schema form: the SDK allows None
        return None


def assistant_routes(api: LangGraphAPI, version: str) -> list[BaseRoute]:
    guard = api.pipeline.guard
    spec = api.spec
    name = spec.agent.name
    record = assistant(name, spec.agent.description, now_iso(), version)

    async def known(request: Request) -> None:
        await guard(request, "invoke")
        if request.path_params["assistant_id"] != name:
            raise NotFound(
                f"assistant {request.path_params['assistant_id']!r} not found", path="assistant_id"
            )

    async def search(request: Request) -> Response:
        await guard(request, "invoke")
        body = parse(AssistantSearch, await request.body())
        match = (body.graph_id in (None, name)) and (body.name in (None, name)) and not body.metadata
        rows = [record] if match and body.offset == 0 else []
        return json_response(rows[: body.limit])

    async def count(request: Request) -> Response:
        await guard(request, "invoke")
        return json_response(1)

    async def get(request: Request) -> Response:
        await known(request)
        return json_response(record)

    async def schemas(request: Request) -> Response:
        await known(request)
        graph = (await api.loaded()).runnable
        return json_response(
            {
                "graph_id": name,
                "input_schema": _schema(lambda: graph.get_input_jsonschema()),
                "output_schema": _schema(lambda: graph.get_output_jsonschema()),
                "state_schema": _schema(lambda: graph.get_input_jsonschema()),
                "config_schema": _schema(lambda: graph.get_config_jsonschema()),
                "context_schema": _schema(lambda: graph.get_context_jsonschema()),
            }
        )

    async def graph_view(request: Request) -> Response:
        await known(request)
        graph = (await api.loaded()).runnable
        xray = request.query_params.get("xray") in ("1", "true", "True")
        return json_response(graph.get_graph(xray=xray).to_json())

    async def subgraphs(request: Request) -> Response:
        await known(request)
        return json_response({})

    base = "/assistants/{assistant_id}"
    return [
        Route("/assistants/search", search, methods=["POST"]),
        Route("/assistants/count", count, methods=["POST"]),
        Route(base, get, methods=["GET"]),
        Route(f"{base}/schemas", schemas, methods=["GET"]),
        Route(f"{base}/graph", graph_view, methods=["GET"]),
        Route(f"{base}/subgraphs", subgraphs, methods=["GET"]),
    ]
