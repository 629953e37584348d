"""The OpenAPI 3.1 document of one agent, written out rather than inferred.

The hot routes are plain Starlette routes (no FastAPI dependency solving per request), so
the document is assembled here from the real contract: the declared input/output schemas
(inline, as written, or the pydantic classes' JSON Schema), an example request, every status
each route can answer with (a fuzzer checks that none is undocumented), the error envelope,
and both security schemes (bearer JWT, ``x-api-key``).
"""

from __future__ import annotations

import copy
from typing import Any

from agentdock.runtime.contract import IOContract
from agentdock.runtime.schemas import example_of, hoist_defs
from agentdock.spec.models import DockSpec

OPENAPI_VERSION = "3.1.0"
_AUTH_ERRORS = {
    "401": "Missing or invalid credentials.",
    "403": "The caller's role lacks the permission (or a policy refused the request).",
    "429": "Rate limit exceeded for the caller's role.",
    "498": "The token has expired.",
    "499": "The API key was revoked.",
}
_RUN_ERRORS = {
    "400": "The request body is malformed (JSON nested deeper than arguments.max_json_depth).",
    "413": "The request body or the output is too large.",
    "415": "The request body is not JSON (send content-type: application/json).",
    "422": "The input does not match the input schema (see `fields`).",
    "500": "The agent failed, or its output did not match the output schema.",
    "503": "The agent is not loaded.",
    "504": "The agent did not finish within `arguments.timeout_sec`.",
}


def _error_responses(codes: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code, text in codes.items():
        ref = "ValidationError" if code == "422" else "Error"
        out[code] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
        }
    return out


def _without(codes: dict[str, str], *drop: str) -> dict[str, str]:
    return {code: text for code, text in codes.items() if code not in drop}


def _security(spec: DockSpec) -> list[dict[str, list[str]]]:
    accepted: list[dict[str, list[str]]] = []
    if spec.auth.mode in ("jwt", "oauth2"):
        accepted.append({"bearer": []})
    if spec.auth.mode == "api_key" or (spec.auth.api_keys and spec.auth.api_keys.enabled):
        accepted.append({"apiKey": []})
    return accepted


def _envelope_schemas() -> dict[str, Any]:
    error: dict[str, Any] = {
        "type": "object",
        "description": "The error envelope of every non-2xx response.",
        "properties": {
            "error": {"type": "string", "description": "Error name, e.g. ValidationError, ToolDenied."},
            "code": {"type": "integer", "description": "The HTTP status."},
            "detail": {"type": "string", "description": "One-line cause."},
            "trace_id": {"type": "string", "description": "Quote it when reporting a problem."},
        },
        "required": ["error", "code", "detail", "trace_id"],
    }
    field = {
        "type": "object",
        "properties": {
            "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["loc", "msg", "type"],
    }
    validation = copy.deepcopy(error)
    validation["properties"]["fields"] = {"type": "array", "items": field}
    return {"Error": error, "ValidationError": validation}


def build_openapi(spec: DockSpec, contract: IOContract, *, version: str) -> dict[str, Any]:
    """The whole document (computed once per app; served as precomputed bytes)."""
    schemas: dict[str, Any] = _envelope_schemas()
    schemas["Input"] = hoist_defs(contract.input_schema, "Input", schemas)
    schemas["Output"] = hoist_defs(contract.output_schema, "Output", schemas)
    input_ref = {"$ref": "#/components/schemas/Input"}
    example = example_of(contract.input_schema)
    body_content: dict[str, Any] = {"schema": input_ref}
    if example is not None:
        body_content["example"] = example
    output_content: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/Output"}}
    output_example = example_of(contract.output_schema)
    if output_example is not None:
        output_content["example"] = output_example
    security = _security(spec)
    guarded = dict(_AUTH_ERRORS) if security else {}
    run_errors = {**guarded, **_RUN_ERRORS}
    # Before OpenAPI 3.2 (itemSchema), the schema of text/event-stream describes one event.
    stream_text = {
        "schema": {
            "type": "object",
            "description": "One Server-Sent Event; `data` is a JSON object.",
            "properties": {
                "event": {"type": "string", "enum": ["start", "token", "update", "tool", "end", "error"]},
                "id": {"type": "string", "pattern": "^[0-9a-f]+:[0-9]+$", "description": "`<run_id>:<n>`"},
                "data": {"type": "string", "contentMediaType": "application/json"},
            },
            "required": ["event", "id", "data"],
        }
    }
    stream_doc = (
        "Server-Sent Events: `start`, `token` (`{text}`), `update`, `tool`, then `end` (`{output, usage, "
        "truncated, reason?}`) or `error` (the error envelope). Every event has an `id:` (`<run_id>:<n>`); "
        "`: ping` comments keep an idle connection open. Errors before the first event are ordinary JSON "
        "error responses. A request with `Last-Event-ID: <run_id>:<n>` rejoins that run instead of "
        "starting one (see `/stream/{run_id}`)."
    )
    resume_errors = {
        "204": "The run has ended and every event was sent: nothing more (EventSource stops reconnecting).",
        "404": "No such run on this instance (ended over `arguments.resume_window_sec` ago, another "
        "instance runs it, or another principal started it).",
        "410": "The events after `Last-Event-ID` are no longer kept (over the per-run size cap).",
    }
    last_event_id = {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "description": "`<run_id>:<n>`: rejoin that run after event n (what EventSource sends on reconnect).",
        "schema": {"type": "string"},
    }
    paths: dict[str, Any] = {}
    if spec.expose.rest:
        paths["/invoke"] = {
            "post": {
                "operationId": "invoke",
                "summary": "Run the agent to completion",
                "requestBody": {"required": True, "content": {"application/json": body_content}},
                "responses": {
                    "200": {
                        "description": "The validated output.",
                        "content": {"application/json": output_content},
                    },
                    **_error_responses(run_errors),
                },
                **({"security": security} if security else {}),
            }
        }
    if spec.expose.streaming == "sse":
        param = {
            "name": "input",
            "in": "query",
            "required": True,
            "description": "The input object, JSON-encoded.",
            "content": {"application/json": body_content},
        }
        resumed = {
            "204": {"description": resume_errors["204"]},
            **_error_responses(_without(resume_errors, "204")),
        }
        responses = {
            "200": {"description": stream_doc, "content": {"text/event-stream": stream_text}},
            **_error_responses(run_errors),
            **resumed,
        }
        paths["/stream"] = {
            "get": {
                "operationId": "stream_get",
                "summary": "Stream a run (SSE)",
                "parameters": [param, last_event_id],
                "responses": responses,
            },
            "post": {
                "operationId": "stream_post",
                "summary": "Stream a run (SSE)",
                "parameters": [last_event_id],
                "requestBody": {"required": True, "content": {"application/json": body_content}},
                "responses": responses,
            },
        }
        paths["/stream/{run_id}"] = {
            "get": {
                "operationId": "stream_rejoin",
                "summary": "Rejoin a stream after a dropped connection (SSE)",
                "parameters": [
                    {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        **last_event_id,
                        "description": "`<run_id>:<n>` or `<n>`; without it, from the first event.",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The events after `Last-Event-ID`, then the live ones.",
                        "content": {"text/event-stream": stream_text},
                    },
                    **_error_responses({**guarded, "422": "`Last-Event-ID` is not an event id of this run."}),
                    **resumed,
                },
            }
        }
        if security:
            for path in ("/stream", "/stream/{run_id}"):
                for op in paths[path].values():
                    op["security"] = security
    docs_guarded = {} if spec.auth.public_docs else guarded
    docs_security = {} if spec.auth.public_docs or not security else {"security": security}
    schema_body = {
        "type": "object",
        "properties": {"input_schema": {"type": "object"}, "output_schema": {"type": "object"}},
        "required": ["input_schema", "output_schema"],
    }
    paths["/schema"] = {
        "get": {
            "operationId": "schema",
            "summary": "The input and output JSON Schemas",
            "responses": {
                "200": {
                    "description": "As declared in the Dockfile.",
                    "content": {"application/json": {"schema": schema_body}},
                },
                **_error_responses(docs_guarded),
            },
            **docs_security,
        }
    }
    health = {
        "type": "object",
        "properties": {
            "status": {"type": "string"},
            "agent": {"type": "string"},
            "version": {"type": "string"},
            "uptime_seconds": {"type": "number"},
        },
        "required": ["status", "agent", "version", "uptime_seconds"],
    }
    paths["/health"] = {
        "get": {
            "operationId": "health",
            "summary": "Liveness (never touches the agent)",
            "responses": {
                "200": {"description": "Alive.", "content": {"application/json": {"schema": health}}}
            },
        }
    }
    ready = {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}
    paths["/ready"] = {
        "get": {
            "operationId": "ready",
            "summary": "Readiness: the agent is loaded",
            "responses": {
                "200": {"description": "Loaded.", "content": {"application/json": {"schema": ready}}},
                **_error_responses({"503": "Not loaded yet."}),
            },
        }
    }
    paths["/metrics"] = {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics (permission view_metrics)",
            "responses": {
                "200": {
                    "description": "Prometheus text format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                **_error_responses(guarded),
            },
            **({"security": security} if security else {}),
        }
    }
    description = spec.agent.description or ""
    if spec.expose.streaming == "websocket":
        description += (
            '\n\nWebSocket: `/ws/stream`. Send `{"input": {...}}`; receive `{"type": "start"|"token"|'
            '"end"|"error", ...}`. Authenticate with the same headers on the handshake.'
        )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": spec.agent.name, "version": version, "description": description.strip()},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT (auth.mode jwt or oauth2).",
                },
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-api-key",
                    "description": "An AgentDock API key (agd_...).",
                },
            },
        },
    }
