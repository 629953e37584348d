"""The auth matrix, run against the real runtime app (``agentdock.runtime.app.create_app``):
every protected route x every way a caller can be wrong -> the exact status and envelope."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from sechelpers import AGENT, SECRET, make_key, make_spec
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agentdock.policy import build_policy
from agentdock.runtime.app import create_app
from agentdock.runtime.components import Components
from agentdock.security import (
    InMemoryKeyResolver,
    build_authenticator,
    build_authorizer,
    build_rate_limiter,
    issue_token,
)
from agentdock.spec.models import DockSpec

pytestmark = pytest.mark.functional

ROLES = [
    {"name": "caller", "permissions": ["invoke"]},
    {"name": "ops", "permissions": ["view_metrics"]},
    {"name": "reader", "permissions": ["read_docs"]},
    {"name": "auditor", "permissions": ["read_logs"]},
    {"name": "limited", "permissions": ["invoke", "view_metrics", "read_docs"]},
]
SPEC = make_spec(
    agent={"framework": "callable", "entrypoint": "agent:answer"},
    auth={"roles": ROLES, "rate_limits": {"limited": "2/m"}},
)
# route -> (method, path, request kwargs, a role that holds its permission, the permission)
ROUTES: dict[str, tuple[str, str, dict[str, Any], str, str]] = {
    "invoke": ("POST", "/invoke", {"json": {"question": "hi"}}, "caller", "invoke"),
    "stream-post": ("POST", "/stream", {"json": {"question": "hi"}}, "caller", "invoke"),
    "stream-get": ("GET", "/stream", {"params": {"input": '{"question": "hi"}'}}, "caller", "invoke"),
    "metrics": ("GET", "/metrics", {}, "ops", "view_metrics"),
    "schema": ("GET", "/schema", {}, "reader", "read_docs"),
    "openapi": ("GET", "/openapi.json", {}, "reader", "read_docs"),
    # /docs is a static shell that asks for the key in the browser; what it loads is /openapi.json
    "redoc": ("GET", "/redoc", {}, "reader", "read_docs"),
}
GOOD = make_key("caller")
REVOKED = make_key("caller", revoked_at=datetime.now(UTC) - timedelta(minutes=1))
EXPIRED = make_key("caller", expires_at=datetime.now(UTC) - timedelta(seconds=1))
UNKNOWN = make_key("caller")  # never stored
OTHER_AGENT = make_key("caller", agent="another-agent")


def answer(data: dict[str, Any]) -> dict[str, Any]:
    return {"answer": "hello " + data["question"]}


def serve(spec: DockSpec) -> TestClient:
    resolver = InMemoryKeyResolver([GOOD.record, REVOKED.record, EXPIRED.record, OTHER_AGENT.record])
    components = Components(
        authenticator=build_authenticator(spec, key_resolver=resolver),
        authorizer=build_authorizer(spec),
        rate_limiter=build_rate_limiter(spec),
        policy=build_policy(spec),
    )
    return TestClient(create_app(spec, components=components, agent=answer, log_sink=lambda line: None))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with serve(SPEC) as c:
        yield c


@pytest.fixture(scope="module")
def ws_client() -> Iterator[TestClient]:
    """The same agent with ``expose.streaming: websocket`` (WS /ws/stream)."""
    with serve(
        SPEC.model_copy(update={"expose": SPEC.expose.model_copy(update={"streaming": "websocket"})})
    ) as c:
        yield c


def token(
    role: str = "caller",
    *,
    secret: str = SECRET,
    sub: str = "user-1",
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    now = int(time.time())
    body = {"sub": sub, "role": role, "aud": AGENT, "iat": now, "exp": now + 300, **claims}
    for name in drop:
        del body[name]
    return pyjwt.encode(body, secret, algorithm="HS256")


def alg_none() -> str:
    now = int(time.time())
    body = {"sub": "user-1", "role": "admin", "aud": AGENT, "iat": now, "exp": now + 300}
    return pyjwt.encode(body, None, algorithm="none")  # type: ignore[arg-type]


def rs256_token() -> str:
    """Algorithm confusion: a validly signed RS256 token offered to an HS256 agent."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    now = int(time.time())
    body = {"sub": "user-1", "role": "admin", "aud": AGENT, "iat": now, "exp": now + 300}
    return pyjwt.encode(
        body, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256"
    )


def bearer(tok: str) -> dict[str, str]:
    return {"authorization": f"Bearer {tok}"}


RS256_TOKEN = rs256_token()
CASES: dict[str, tuple[Any, int, str]] = {
    # case -> (headers builder(route_role), status, envelope name)
    "missing": (lambda role: {}, 401, "AuthenticationError"),
    "malformed-scheme": (lambda role: {"authorization": "Basic dXNlcjpwYXNz"}, 401, "AuthenticationError"),
    "malformed-jwt": (lambda role: bearer("not.a.jwt"), 401, "AuthenticationError"),
    "malformed-key": (lambda role: {"x-api-key": "agd_short"}, 401, "AuthenticationError"),
    "bad-signature": (
        lambda role: bearer(token(role, secret="another-secret-" + "y" * 32)),
        401,
        "AuthenticationError",
    ),
    "alg-none": (lambda role: bearer(alg_none()), 401, "AuthenticationError"),
    "alg-confusion": (lambda role: bearer(RS256_TOKEN), 401, "AuthenticationError"),
    "not-yet-valid": (
        lambda role: bearer(token(role, nbf=int(time.time()) + 600)),
        401,
        "AuthenticationError",
    ),
    "no-exp-claim": (lambda role: bearer(token(role, drop=("exp",))), 401, "AuthenticationError"),
    "expired": (lambda role: bearer(token(role, exp=int(time.time()) - 60)), 498, "TokenExpired"),
    "wrong-audience": (lambda role: bearer(token(role, aud="someone-else")), 401, "AuthenticationError"),
    "no-role-claim": (lambda role: bearer(token(role, drop=("role",))), 401, "AuthenticationError"),
    "revoked-key": (lambda role: {"x-api-key": REVOKED.new.key}, 499, "KeyRevoked"),
    "expired-key": (lambda role: {"x-api-key": EXPIRED.new.key}, 498, "TokenExpired"),
    "unknown-key": (lambda role: {"x-api-key": UNKNOWN.new.key}, 401, "AuthenticationError"),
    "wrong-secret": (lambda role: {"x-api-key": GOOD.new.key[:-4] + "AAAA"}, 401, "AuthenticationError"),
    "other-agents-key": (lambda role: {"x-api-key": OTHER_AGENT.new.key}, 401, "AuthenticationError"),
    "wrong-role": (lambda role: bearer(token("auditor")), 403, "PermissionDenied"),
    "undefined-role": (lambda role: bearer(token("ghost")), 403, "PermissionDenied"),
}


def call(client: TestClient, route: str, headers: dict[str, str]) -> Any:
    method, path, kwargs, _, _ = ROUTES[route]
    return client.request(method, path, headers=headers, **kwargs)


def assert_envelope(response: Any, status: int, name: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "code", "detail", "trace_id"}
    assert body["error"] == name and body["code"] == status and body["detail"]
    assert body["trace_id"] == response.headers["x-trace-id"]
    return body


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("route", list(ROUTES))
def test_refusals(client: TestClient, route: str, case: str) -> None:
    build, status, name = CASES[case]
    role = ROUTES[route][3]
    body = assert_envelope(call(client, route, build(role)), status, name)
    if status == 403:
        permission = ROUTES[route][4]
        assert f"'{permission}'" in body["detail"] and (
            "'auditor'" in body["detail"] or "'ghost'" in body["detail"]
        )
    if case in ("missing", "bad-signature"):
        assert "Bearer" in call(client, route, build(role)).headers["www-authenticate"]


@pytest.mark.parametrize("route", list(ROUTES))
def test_the_right_role_gets_in(client: TestClient, route: str) -> None:
    role = ROUTES[route][3]
    response = call(client, route, bearer(token(role)))
    assert response.status_code == 200, response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_valid_api_key_gets_in(client: TestClient) -> None:
    response = call(client, "invoke", {"x-api-key": GOOD.new.key})
    assert response.status_code == 200 and response.json() == {"answer": "hello hi"}
    minted = call(client, "invoke", bearer(issue_token(SPEC, sub="cli", role="caller", ttl_s=60)))
    assert minted.status_code == 200


@pytest.mark.parametrize("route", list(ROUTES))
def test_over_the_rate(client: TestClient, route: str) -> None:
    headers = bearer(token("limited", sub=f"rate-{route}"))
    for remaining in (1, 0):
        ok = call(client, route, headers)
        assert ok.status_code == 200, ok.text
        assert ok.headers["x-ratelimit-limit"] == "2"
        assert ok.headers["x-ratelimit-remaining"] == str(remaining)
    over = call(client, route, headers)
    body = assert_envelope(over, 429, "RateLimited")
    assert "'limited'" in body["detail"]
    retry = int(over.headers["retry-after"])
    assert 1 <= retry <= 60 and over.headers["x-ratelimit-reset"] == str(retry)
    assert over.headers["x-ratelimit-remaining"] == "0"
    # Counted per principal: another caller with the same role is not affected.
    assert call(client, route, bearer(token("limited", sub=f"other-{route}"))).status_code == 200


@pytest.mark.parametrize("case", list(CASES))
def test_websocket_handshake_refusals(ws_client: TestClient, case: str) -> None:
    build, status, name = CASES[case]
    with ws_client.websocket_connect("/ws/stream", headers=build("caller")) as ws:
        message = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert message["type"] == "error" and message["error"] == name and message["code"] == status
    assert closed.value.code == 1008


def test_websocket_right_role_and_rate(ws_client: TestClient) -> None:
    with ws_client.websocket_connect("/ws/stream", headers=bearer(token("caller"))) as ws:
        ws.send_json({"input": {"question": "hi"}})
        events = []
        while not events or events[-1]["type"] not in ("end", "error"):
            events.append(ws.receive_json())
    assert events[-1]["type"] == "end" and events[-1]["output"] == {"answer": "hello hi"}
    limited = bearer(token("limited", sub="ws-rate"))
    for _ in range(2):
        with ws_client.websocket_connect("/ws/stream", headers=limited):
            pass
    with ws_client.websocket_connect("/ws/stream", headers=limited) as ws:
        assert ws.receive_json()["error"] == "RateLimited"


def test_hardening_refusals_come_first_with_one_trace_id(client: TestClient) -> None:
    """Body limits act before auth and the runtime's middleware still owns the x-trace-id header."""
    too_big = client.post("/invoke", content=b"x" * ((1 << 20) + 1))
    body = assert_envelope(too_big, 413, "PayloadTooLarge")
    assert too_big.headers.get_list("x-trace-id") == [body["trace_id"]]
    deep = client.post("/invoke", content=b"[" * 40 + b"]" * 40, headers=bearer(token()))
    assert_envelope(deep, 400, "BadRequest")
    assert deep.headers["content-security-policy"].startswith("default-src 'none'")


def test_public_routes_need_nothing(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
