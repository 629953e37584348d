"""Routes, permissions, envelopes and headers, in process (ASGI transport, lifespan run)."""

from __future__ import annotations

import json

import pytest
from rthelpers import ScriptAgent, build, client_for, make_spec

pytestmark = pytest.mark.functional

ENVELOPE_KEYS = {"error", "code", "detail", "trace_id"}


async def test_invoke_validates_input_and_returns_validated_output() -> None:
    built = build(agent=ScriptAgent(tokens=["A ", "summary"]))
    async with client_for(built.app) as client:
        response = await client.post(
            "/invoke", json={"text": "hello", "mode": "short"}, headers=built.keys.headers()
        )
    assert response.status_code == 200
    assert response.json() == {"summary": "A summary"}
    assert response.headers["content-type"] == "application/json"
    assert built.agent.inputs == [{"text": "hello", "mode": "short"}]


async def test_output_keeps_declared_fields_only() -> None:
    built = build(agent=ScriptAgent(output={"summary": "ok", "messages": [object()], "scratch": 1}))
    async with client_for(built.app) as client:
        response = await client.post("/invoke", json={"text": "x"}, headers=built.keys.headers())
    assert response.status_code == 200
    assert response.json() == {"summary": "ok"}


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"mode": "short"}, ["body", "text"], "missing"),
        ({"text": 5}, ["body", "text"], "string_type"),
        ({"text": "x", "mode": "medium"}, ["body", "mode"], "literal_error"),
        ({"text": "x" * 501}, ["body", "text"], "string_too_long"),
        ([1, 2], ["body"], "model_type"),
    ],
)
async def test_invalid_input_is_422_with_fields(body: object, loc: list[str], kind: str) -> None:
    built = build()
    async with client_for(built.app) as client:
        response = await client.post("/invoke", json=body, headers=built.keys.headers())
    assert response.status_code == 422
    data = response.json()
    assert set(data) >= ENVELOPE_KEYS
    assert data["error"] == "ValidationError" and data["code"] == 422
    assert data["trace_id"] == response.headers["x-trace-id"]
    assert {"loc": loc, "msg": data["fields"][0]["msg"], "type": kind} in data["fields"]
    assert built.agent.calls == 0


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"text": "unterminated'])
async def test_body_parse_failures_use_the_envelope(content: bytes) -> None:
    built = build()
    async with client_for(built.app) as client:
        response = await client.post(
            "/invoke", content=content, headers={**built.keys.headers(), "content-type": "application/json"}
        )
    assert response.status_code == 422
    data = response.json()
    assert data["error"] == "ValidationError"
    assert data["fields"][0]["loc"] == ["body"]
    assert "Traceback" not in response.text


async def test_health_is_cheap_and_ready_reflects_the_graph() -> None:
    built = build()
    async with client_for(built.app) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["agent"] == "test_agent" and body["version"] == "dev"
    assert isinstance(body["uptime_seconds"], float)
    assert ready.json() == {"status": "ready"}
    assert built.adapter.loads == 1  # built once, at startup
    assert built.agent.calls == 0  # neither probe ran the agent


async def test_ready_is_503_until_loaded_and_first_request_loads_without_lifespan() -> None:
    import httpx

    built = build()
    transport = httpx.ASGITransport(app=built.app)  # no lifespan: nothing built yet
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        not_ready = await client.get("/ready")
        health = await client.get("/health")
        invoked = await client.post("/invoke", json={"text": "x"}, headers=built.keys.headers())
        ready = await client.get("/ready")
    assert not_ready.status_code == 503 and not_ready.json()["error"] == "NotReady"
    assert health.status_code == 200
    assert invoked.status_code == 200
    assert ready.status_code == 200
    assert built.adapter.loads == 1


async def test_version_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDOCK_VERSION", "7")
    built = build()
    async with client_for(built.app) as client:
        assert (await client.get("/health")).json()["version"] == "7"


@pytest.mark.parametrize(
    ("role", "path", "method", "expected"),
    [
        ("viewer", "/invoke", "POST", 403),
        ("developer", "/invoke", "POST", 200),
        ("developer", "/metrics", "GET", 200),
        ("viewer", "/metrics", "GET", 200),
        ("developer", "/schema", "GET", 403),  # default developer role lacks read_docs
        ("viewer", "/schema", "GET", 200),
        ("viewer", "/openapi.json", "GET", 200),
        ("developer", "/docs", "GET", 200),  # the login shell: no API data, loads /openapi.json
        ("admin", "/redoc", "GET", 200),
        (None, "/metrics", "GET", 401),
        (None, "/openapi.json", "GET", 401),
        (None, "/stream?input=%7B%22text%22%3A%22x%22%7D", "GET", 401),
    ],
)
async def test_route_permissions(role: str | None, path: str, method: str, expected: int) -> None:
    built = build()
    headers = built.keys.headers(role) if role else {}
    async with client_for(built.app) as client:
        response = await client.request(
            method, path, json={"text": "x"} if method == "POST" else None, headers=headers
        )
    assert response.status_code == expected, response.text
    if expected >= 400:
        data = response.json()
        assert set(data) == ENVELOPE_KEYS
        assert data["code"] == expected


async def test_public_docs_serve_without_credentials() -> None:
    built = build(make_spec(auth={"public_docs": True}))
    async with client_for(built.app) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/schema"):
            assert (await client.get(path)).status_code == 200, path
        docs = await client.get("/docs")
        api = await client.get("/openapi.json")
        assert (await client.get("/metrics")).status_code == 401
    assert "swagger-ui" in docs.text and "/openapi.json" in docs.text
    # The docs page may load Swagger UI from its CDN; API responses allow nothing.
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert api.headers["content-security-policy"].startswith("default-src 'none'")


async def test_fastapi_request_validation_errors_use_the_envelope() -> None:
    built = build()

    @built.app.get("/typed")
    async def typed(limit: int) -> dict[str, int]:
        return {"limit": limit}

    async with client_for(built.app) as client:
        response = await client.get("/typed?limit=abc")
    assert response.status_code == 422
    data = response.json()
    assert data["error"] == "ValidationError" and data["trace_id"] == response.headers["x-trace-id"]
    assert data["fields"][0]["loc"] == ["query", "limit"]
    assert "input" not in data["fields"][0]


async def test_schema_is_exactly_the_declared_schema() -> None:
    spec = make_spec(auth={"public_docs": True})
    built = build(spec)
    async with client_for(built.app) as client:
        data = (await client.get("/schema")).json()
    assert data == {"input_schema": spec.io_schema.input, "output_schema": spec.io_schema.output}


async def test_openapi_has_real_models_examples_and_both_security_schemes() -> None:
    built = build(make_spec(auth={"public_docs": True}))
    async with client_for(built.app) as client:
        doc = (await client.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    assert schemas["Input"]["properties"]["mode"]["enum"] == ["short", "long"]
    assert schemas["Output"]["required"] == ["summary"]
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert doc["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "An AgentDock API key (agd_...).",
    }
    invoke = doc["paths"]["/invoke"]["post"]
    assert invoke["requestBody"]["content"]["application/json"]["example"] == {
        "text": "string",
        "mode": "short",
    }
    assert invoke["security"] == [{"apiKey": []}]
    assert {"200", "401", "403", "422", "429", "500", "504"} <= set(invoke["responses"])
    assert set(doc["paths"]) == {
        "/invoke",
        "/stream",
        "/stream/{run_id}",
        "/schema",
        "/health",
        "/ready",
        "/metrics",
    }


async def test_errors_from_routing_use_the_envelope() -> None:
    built = build()
    async with client_for(built.app) as client:
        missing = await client.get("/nope")
        wrong_method = await client.get("/invoke")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "MethodNotAllowed"
    assert wrong_method.headers["allow"] == "POST"


async def test_every_response_has_a_trace_id_and_traceparent_is_honoured() -> None:
    built = build()
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with client_for(built.app) as client:
        traced = await client.post(
            "/invoke",
            json={"text": 1},
            headers={**built.keys.headers(), "traceparent": f"00-{trace}-00f067aa0ba902b7-01"},
        )
        bad_parent = await client.get("/health", headers={"traceparent": "00-zz-00f067aa0ba902b7-01"})
        plain = await client.get("/nope")
    assert traced.headers["x-trace-id"] == trace
    assert traced.json()["trace_id"] == trace
    assert len(bad_parent.headers["x-trace-id"]) == 32 and bad_parent.headers["x-trace-id"] != trace
    assert plain.json()["trace_id"] == plain.headers["x-trace-id"]
    log = [json.loads(line) for line in built.logs if '"msg":"request"' in line]
    assert trace in {entry["trace_id"] for entry in log}


async def test_rate_limit_headers_and_429() -> None:
    built = build(make_spec(auth={"rate_limits": {"developer": "2/m"}}))
    async with client_for(built.app) as client:
        responses = [
            await client.post("/invoke", json={"text": "x"}, headers=built.keys.headers()) for _ in range(3)
        ]
    first, second, third = responses
    assert first.status_code == 200 and first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    assert second.headers["x-ratelimit-remaining"] == "0"
    assert third.status_code == 429
    assert third.json()["error"] == "RateLimited"
    assert "retry-after" in third.headers
    assert built.agent.calls == 2


async def test_security_headers_and_body_limit_come_from_hardening() -> None:
    built = build(make_spec(arguments={"max_body_bytes": 64}))
    async with client_for(built.app) as client:
        ok = await client.post("/invoke", json={"text": "x"}, headers=built.keys.headers())
        big = await client.post("/invoke", json={"text": "x" * 100}, headers=built.keys.headers())
    assert ok.headers["x-content-type-options"] == "nosniff"
    assert big.status_code == 413
    assert big.json()["error"] == "PayloadTooLarge"
    assert big.json()["trace_id"] == big.headers["x-trace-id"]


async def test_rest_off_removes_invoke() -> None:
    built = build(make_spec(expose={"rest": False, "streaming": "sse"}))
    async with client_for(built.app) as client:
        response = await client.post("/invoke", json={"text": "x"}, headers=built.keys.headers())
    assert response.status_code == 404


async def test_docs_page_is_usable_in_a_browser_with_an_api_key() -> None:
    """Issue 17: /docs answered 401 to a browser, which cannot send x-api-key on a page load."""
    built = build()
    async with client_for(built.app) as client:
        page = await client.get("/docs")
        anonymous = await client.get("/openapi.json")
        as_header = await client.get("/openapi.json", headers=built.keys.headers("viewer"))
        as_bearer = await client.get(
            "/openapi.json", headers={"authorization": f"Bearer {built.keys.viewer}"}
        )
        invoke = await client.post(
            "/invoke", json={"text": "x"}, headers={"authorization": f"Bearer {built.keys.developer}"}
        )
    assert page.status_code == 200 and "requestInterceptor" in page.text and "x-api-key" in page.text
    assert '"paths"' not in page.text and "Input" not in page.text  # the shell carries no schema
    assert anonymous.status_code == 401
    assert as_header.status_code == 200 and as_bearer.status_code == 200
    assert invoke.status_code == 200
