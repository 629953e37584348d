"""Authentication details the matrix does not cover: modes, key expiry, pepper, bootstrap key,
resolver chains, secrets, token minting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
from sechelpers import AGENT, SECRET, make_key, make_spec
from starlette.requests import HTTPConnection

from agentdock.errors import AuthConfigError, AuthenticationError, TokenExpired
from agentdock.security import (
    ChainKeyResolver,
    InMemoryKeyResolver,
    build_authenticator,
    issue_token,
    key_resolver_from_env,
)
from agentdock.security.apikeys import generate_api_key
from agentdock.security.keys import BootstrapKeyResolver, parse_bootstrap
from agentdock.settings import ENV_BOOTSTRAP_KEY_HASH, ENV_KEY_PEPPER, ENV_STORE
from agentdock.store.base import APIKeyRecord

pytestmark = pytest.mark.unit


def conn(**headers: str) -> HTTPConnection:
    return HTTPConnection(
        {"type": "http", "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}
    )


async def test_api_key_mode_refuses_bearer_tokens() -> None:
    spec = make_spec(auth={"mode": "api_key", "jwt": None})
    key = make_key("developer")
    auth = build_authenticator(spec, key_resolver=InMemoryKeyResolver([key.record]))
    principal = await auth.authenticate(conn(x_api_key=key.new.key))
    assert (principal.id, principal.role, principal.kind) == (key.new.key_id, "developer", "api_key")
    assert "invoke" in principal.permissions
    with pytest.raises(AuthenticationError, match="bearer tokens are not accepted"):
        await auth.authenticate(
            conn(authorization="Bearer " + issue_token(spec, sub="u", role="admin", ttl_s=60, secret=SECRET))
        )


async def test_jwt_mode_without_api_keys_refuses_keys() -> None:
    spec = make_spec(auth={"api_keys": {"enabled": False}})
    auth = build_authenticator(spec)
    assert auth.keys is None
    with pytest.raises(AuthenticationError, match="API keys are not accepted"):
        await auth.authenticate(conn(x_api_key=generate_api_key().key))
    principal = await auth.authenticate(
        conn(authorization="Bearer " + issue_token(spec, sub="u", role="viewer", ttl_s=60))
    )
    assert (principal.id, principal.kind, principal.claims["aud"]) == ("u", "jwt", AGENT)


async def test_rotation_days_expire_old_keys() -> None:
    spec = make_spec(auth={"api_keys": {"enabled": True, "rotation_days": 7}})
    old = make_key("developer", created_at=datetime.now(UTC) - timedelta(days=8))
    fresh = make_key("developer", created_at=datetime.now(UTC) - timedelta(days=6))
    auth = build_authenticator(spec, key_resolver=InMemoryKeyResolver([old.record, fresh.record]))
    with pytest.raises(TokenExpired, match="api key expired"):
        await auth.authenticate(conn(x_api_key=old.new.key))
    assert (await auth.authenticate(conn(x_api_key=fresh.new.key))).role == "developer"


async def test_the_pepper_is_part_of_the_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KEY_PEPPER, "server-pepper")
    new = generate_api_key()  # hashed with the pepper from the environment
    assert new.key_hash.startswith("hmac-sha256:")
    record = APIKeyRecord(
        key_id=new.key_id, agent=AGENT, role="admin", key_hash=new.key_hash, created_at=datetime.now(UTC)
    )
    spec = make_spec()
    peppered = build_authenticator(spec, key_resolver=InMemoryKeyResolver([record]))
    assert (await peppered.authenticate(conn(x_api_key=new.key))).role == "admin"
    monkeypatch.setenv(ENV_KEY_PEPPER, "another-pepper")
    with pytest.raises(AuthenticationError, match="invalid api key"):
        await build_authenticator(spec, key_resolver=InMemoryKeyResolver([record])).authenticate(
            conn(x_api_key=new.key)
        )


async def test_bootstrap_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    new = generate_api_key(pepper="")
    monkeypatch.delenv(ENV_STORE, raising=False)
    monkeypatch.setenv(ENV_BOOTSTRAP_KEY_HASH, f"{new.key_id}:admin:{new.key_hash}")
    auth = build_authenticator(make_spec())
    assert isinstance(auth.keys, BootstrapKeyResolver)
    principal = await auth.authenticate(conn(x_api_key=new.key))
    assert principal.role == "admin" and "deploy" in principal.permissions
    assert new.key_id in auth.keys.last_used
    with pytest.raises(AuthenticationError):
        await auth.authenticate(conn(x_api_key=generate_api_key().key))


@pytest.mark.parametrize("value", ["", "abc", "id:admin", "id:admin:md5:abcd", ":admin:sha256:ab"])
def test_a_malformed_bootstrap_value_is_a_config_error(value: str) -> None:
    with pytest.raises(AuthConfigError) as info:
        parse_bootstrap(value, AGENT)
    assert info.value.path == ENV_BOOTSTRAP_KEY_HASH


def test_no_resolver_configured_refuses_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_STORE, raising=False)
    monkeypatch.delenv(ENV_BOOTSTRAP_KEY_HASH, raising=False)
    resolver = key_resolver_from_env(make_spec())
    assert isinstance(resolver, ChainKeyResolver) and resolver.resolvers == ()


async def test_a_chain_notes_use_on_the_resolver_that_knew_the_key() -> None:
    first, second = make_key("viewer"), make_key("admin")
    a, b = InMemoryKeyResolver([first.record]), InMemoryKeyResolver([second.record])
    auth = build_authenticator(make_spec(), key_resolver=ChainKeyResolver([a, b]))
    assert (await auth.authenticate(conn(x_api_key=second.new.key))).role == "admin"
    assert (await auth.authenticate(conn(x_api_key=first.new.key))).role == "viewer"
    assert set(a.last_used) == {first.new.key_id} and set(b.last_used) == {second.new.key_id}


@pytest.mark.parametrize("secret", [None, "${JWT_SECRET}"])
def test_jwt_mode_needs_a_resolved_secret(secret: str | None) -> None:
    spec = make_spec(auth={"jwt": {"secret_key": secret}})
    with pytest.raises(AuthConfigError) as info:
        build_authenticator(spec)
    assert info.value.path == "auth.jwt.secret_key"


def test_issue_token_mints_what_the_agent_accepts() -> None:
    spec = make_spec()
    claims = pyjwt.decode(
        issue_token(spec, sub="alice", role="developer", ttl_s=900),
        SECRET,
        algorithms=["HS256"],
        audience=AGENT,
    )
    assert claims["sub"] == "alice" and claims["role"] == "developer" and claims["exp"] - claims["iat"] == 900
    with pytest.raises(AuthConfigError, match="role 'ghost' is not defined"):
        issue_token(spec, sub="alice", role="ghost", ttl_s=60)


async def test_absurdly_long_tokens_are_refused_before_decoding() -> None:
    auth = build_authenticator(make_spec())
    with pytest.raises(AuthenticationError, match="too long"):
        await auth.authenticate(conn(authorization="Bearer " + "a" * 10_000))
