"""HTTP hardening: security headers, CORS exactly from the Dockfile, body size and JSON depth
limits with the JSON envelope (in-process, and over a real uvicorn for chunked uploads)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from sechelpers import make_spec
from starlette.testclient import TestClient

from agentdock.errors import InvalidSchemaError
from agentdock.security.middleware import API_CSP, DOCS_CSP, install_hardening, json_too_deep

pytestmark = pytest.mark.functional


def make_app(**sections: Any) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    install_hardening(app, make_spec(**sections))
    return app


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def test_security_headers_and_the_docs_csp() -> None:
    client = TestClient(make_app())
    r = client.get("/ping")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["strict-transport-security"].startswith("max-age=")
    assert r.headers["content-security-policy"] == API_CSP
    docs = client.get("/docs")  # FastAPI's own Swagger page: its CDN assets and inline script must load
    assert docs.status_code == 200 and "cdn.jsdelivr.net" in docs.text
    assert docs.headers["content-security-policy"] == DOCS_CSP
    assert "https://cdn.jsdelivr.net" in DOCS_CSP and "'unsafe-inline'" in DOCS_CSP
    assert "'unsafe-inline'" not in API_CSP


def test_no_cors_headers_unless_configured() -> None:
    r = TestClient(make_app()).get("/ping", headers={"origin": "https://app.example"})
    assert not any(h.startswith("access-control-") for h in r.headers)


def test_cors_exactly_from_the_dockfile() -> None:
    client = TestClient(make_app(expose={"cors": {"origins": ["https://app.example"], "methods": ["POST"]}}))
    preflight = client.options(
        "/echo",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers
    simple = client.get("/ping", headers={"origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-trace-id" in simple.headers["access-control-expose-headers"]
    stranger = client.get("/ping", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers
    refused = client.options(
        "/echo", headers={"origin": "https://app.example", "access-control-request-method": "DELETE"}
    )
    assert refused.status_code == 400


def test_wildcard_cors_never_allows_credentials() -> None:
    client = TestClient(make_app(expose={"cors": {"origins": ["*"]}}))
    r = client.get("/ping", headers={"origin": "https://any.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers


def test_body_size_limit_from_content_length() -> None:
    client = TestClient(make_app(arguments={"max_body_bytes": 1000}))
    body = bytes(range(256)) * 3 + b"x" * 232
    assert client.post("/echo", content=body).json() == {
        "bytes": 1000,
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    r = client.post("/echo", content=b"x" * 1001, headers={"x-trace-id": "trace-abc"})
    assert r.status_code == 413
    assert r.json() == {
        "error": "PayloadTooLarge",
        "code": 413,
        "detail": "request body exceeds the limit of 1000 bytes (arguments.max_body_bytes)",
        "trace_id": "trace-abc",
    }
    assert r.headers["x-content-type-options"] == "nosniff"  # headers on refusals too


def test_default_body_limit_is_one_mib() -> None:
    client = TestClient(make_app())
    assert client.post("/echo", content=b"x" * (1 << 20)).status_code == 200
    assert client.post("/echo", content=b"x" * ((1 << 20) + 1)).status_code == 413


def test_json_depth_limit() -> None:
    client = TestClient(make_app())
    assert client.post("/echo", content=nested(32)).status_code == 200
    r = client.post("/echo", content=nested(33))
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "BadRequest" and "32" in body["detail"] and body["trace_id"]
    in_strings = json.dumps({"text": "[" * 500 + "{" * 500}).encode()  # brackets in strings are text
    assert client.post("/echo", content=in_strings).status_code == 200
    strict = TestClient(make_app(arguments={"max_json_depth": 3}))
    assert strict.post("/echo", content=b'{"a": {"b": {"c": 1}}}').status_code == 200
    assert strict.post("/echo", content=b'{"a": {"b": {"c": [1]}}}').status_code == 400


def test_depth_scan_edge_cases() -> None:
    assert not json_too_deep(b"", 32)
    assert not json_too_deep(b'"\\"[[[[[["' + nested(2), 3)
    assert json_too_deep(b'{"k": "\\\\"}' + nested(4), 3)  # an escaped backslash ends the string
    assert not json_too_deep(b"[]" * 100_000, 1)


@pytest.mark.parametrize("value", [0, -1, "big", True, 1.5])
def test_bad_limits_are_config_errors(value: Any) -> None:
    with pytest.raises(InvalidSchemaError) as info:
        make_app(arguments={"max_body_bytes": value})
    assert info.value.path == "arguments.max_body_bytes"


@pytest.fixture
def server() -> Iterator[str]:
    """The hardened app served by a real uvicorn on 127.0.0.1 and a free port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(make_app(arguments={"max_body_bytes": 50_000}), log_level="error", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.mark.integration
def test_chunked_uploads_are_cut_off_while_reading(server: str) -> None:
    def chunks(total: int) -> Iterator[bytes]:
        for _ in range(total // 10_000):
            yield b"y" * 10_000

    with httpx.Client(timeout=10) as client:
        ok = client.post(f"{server}/echo", content=chunks(50_000))
        assert ok.status_code == 200 and ok.json()["bytes"] == 50_000
        assert "content-length" not in ok.request.headers  # it really was chunked
        too_big = client.post(f"{server}/echo", content=chunks(200_000))
        assert too_big.status_code == 413
        assert too_big.json()["error"] == "PayloadTooLarge"
        assert client.get(f"{server}/ping").status_code == 200  # the server is fine afterwards
