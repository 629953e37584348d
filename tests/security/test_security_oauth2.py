"""OAuth2 bearer tokens against a JWKS served by a real HTTP server on 127.0.0.1, with RSA and
EC keys generated here, including key rotation."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sechelpers import AGENT, JWKSServer, make_spec
from starlette.requests import HTTPConnection

from agentdock.errors import AuthConfigError, AuthenticationError, NotReady, TokenExpired
from agentdock.security import build_authenticator
from agentdock.security.oauth2 import JWKSCache, OAuth2Verifier

pytestmark = pytest.mark.integration

ISSUER = "https://issuer.test/"


def new_key(kind: str) -> Any:
    if kind == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = pyjwt.get_algorithm_by_name(alg)
    data: dict[str, Any] = json.loads(algorithm.to_jwk(private.public_key()))
    return {**data, "kid": kid, "alg": alg, "use": "sig"}


def sign(private: Any, kid: str, alg: str, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AGENT,
        "sub": "svc-1",
        "role": "developer",
        "iat": now,
        "exp": now + 300,
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return pyjwt.encode(body, private, algorithm=alg, headers={"kid": kid})


def conn(token: str) -> HTTPConnection:
    return HTTPConnection({"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]})


def verifier(server: JWKSServer, **cache: Any) -> OAuth2Verifier:
    return OAuth2Verifier(keys=JWKSCache(server.url, **cache), issuer=ISSUER, audience=AGENT)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_valid_tokens_verify_and_keys_are_cached(jwks_server: JWKSServer, alg: str) -> None:
    key = new_key(alg)
    jwks_server.keys = [jwk(key, "k1", alg)]
    v = verifier(jwks_server)
    for _ in range(3):
        claims = await v.verify(sign(key, "k1", alg))
        assert claims["sub"] == "svc-1"
    assert jwks_server.requests == 1


async def test_the_authenticator_builds_an_oauth2_principal(jwks_server: JWKSServer) -> None:
    key = new_key("RS256")
    jwks_server.keys = [jwk(key, "k1", "RS256")]
    spec = make_spec(auth={"mode": "oauth2", "oauth2": {"issuer": ISSUER, "jwks_url": jwks_server.url}})
    auth = build_authenticator(spec)
    principal = await auth.authenticate(conn(sign(key, "k1", "RS256", role=None, roles=["viewer", "x"])))
    assert (principal.id, principal.role, principal.kind) == ("svc-1", "viewer", "oauth2")
    assert principal.permissions == {"view_metrics", "read_docs"}


async def test_rotation_refetches_once_for_an_unknown_kid(jwks_server: JWKSServer) -> None:
    old, new = new_key("RS256"), new_key("ES256")
    jwks_server.keys = [jwk(old, "old", "RS256")]
    v = verifier(jwks_server, refetch_cooldown_s=0.0)
    await v.verify(sign(old, "old", "RS256"))
    jwks_server.keys = [jwk(old, "old", "RS256"), jwk(new, "new", "ES256")]  # the issuer rotates
    await v.verify(sign(new, "new", "ES256"))
    assert jwks_server.requests == 2
    await v.verify(sign(new, "new", "ES256"))
    assert jwks_server.requests == 2  # cached again
    with pytest.raises(AuthenticationError, match="no signing key with kid 'ghost'"):
        await v.verify(sign(new, "ghost", "ES256"))
    assert jwks_server.requests == 3  # exactly one refetch for the unknown kid


async def test_unknown_kids_cannot_hammer_the_issuer(jwks_server: JWKSServer) -> None:
    key = new_key("RS256")
    jwks_server.keys = [jwk(key, "k1", "RS256")]
    v = verifier(jwks_server, refetch_cooldown_s=60.0)
    await v.verify(sign(key, "k1", "RS256"))
    for i in range(5):
        with pytest.raises(AuthenticationError):
            await v.verify(sign(key, f"made-up-{i}", "RS256"))
    assert jwks_server.requests == 1


@pytest.mark.parametrize(
    ("claims", "status", "match"),
    [
        ({"iss": "https://evil.test/"}, 401, "issuer"),
        ({"iss": None}, 401, "iss"),
        ({"aud": "another-agent"}, 401, "audience"),
        ({"exp": int(time.time()) - 60}, 498, "expired"),
    ],
)
async def test_claims_are_checked(
    jwks_server: JWKSServer, claims: dict[str, Any], status: int, match: str
) -> None:
    key = new_key("RS256")
    jwks_server.keys = [jwk(key, "k1", "RS256")]
    with pytest.raises((AuthenticationError, TokenExpired)) as info:
        await verifier(jwks_server).verify(sign(key, "k1", "RS256", **claims))
    assert info.value.code == status and match in info.value.cause.lower()


async def test_symmetric_and_mismatched_algorithms_are_refused(jwks_server: JWKSServer) -> None:
    rsa_key = new_key("RS256")
    secret = "a-shared-secret-that-is-long-enough-32"
    jwks_server.keys = [
        jwk(rsa_key, "k1", "RS256"),
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hs", "alg": "HS256"},
    ]
    v = verifier(jwks_server)
    now = int(time.time())
    hs = pyjwt.encode(
        {"iss": ISSUER, "aud": AGENT, "sub": "x", "role": "admin", "iat": now, "exp": now + 60},
        secret,
        algorithm="HS256",
        headers={"kid": "hs"},
    )
    with pytest.raises(AuthenticationError, match="alg"):
        await v.verify(hs)
    assert jwks_server.requests == 0  # refused before any key lookup
    ec_key = new_key("ES256")
    with pytest.raises(AuthenticationError):  # ES256 token claiming the RSA key's kid
        await v.verify(sign(ec_key, "k1", "ES256"))


async def test_an_unreachable_issuer(jwks_server: JWKSServer) -> None:
    key = new_key("RS256")
    jwks_server.keys = [jwk(key, "k1", "RS256")]
    v = verifier(jwks_server, lifespan_s=0.01, refetch_cooldown_s=0.0)
    await v.verify(sign(key, "k1", "RS256"))
    dead = verifier(JWKSServer(url="http://127.0.0.1:9/jwks.json"), refetch_cooldown_s=0.0)
    with pytest.raises(NotReady):
        await dead.verify(sign(key, "k1", "RS256"))
    # Keys already known keep working when a refresh fails.
    v.keys._client.uri = "http://127.0.0.1:9/jwks.json"
    time.sleep(0.02)
    assert (await v.verify(sign(key, "k1", "RS256")))["sub"] == "svc-1"


def test_oauth2_needs_an_issuer_and_a_jwks_url() -> None:
    with pytest.raises(AuthConfigError):
        build_authenticator(make_spec(auth={"mode": "oauth2", "oauth2": {"issuer": ISSUER}}))
