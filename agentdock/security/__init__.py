"""Who may call an agent, with which role, how often: built once per process from the Dockfile.

The runtime (``runtime.components.Components.from_spec``) calls the three factories below
and ``security.middleware.install_hardening``; routes never call security code directly.

* ``build_authenticator`` - ``authn.RequestAuthenticator``: HS256 JWTs (``jwt``), OAuth2 JWTs
  against a JWKS (``oauth2``) and/or API keys (``apikeys`` format, ``keys`` resolvers);
* ``build_authorizer`` - ``authz.RoleAuthorizer``: role -> permissions, 403 naming both;
* ``build_rate_limiter`` - ``ratelimit.InMemoryRateLimiter``, or the store-backed
  ``agentdock.store.runtime.StoreRateLimiter`` when a store is given or the store of
  ``AGENTDOCK_STORE`` is shared between instances (DynamoDB, PostgreSQL; any store with
  ``AGENTDOCK_SHARED_RATE_LIMIT=1``): on Lambda, Knative or Cloud Run every instance then counts
  against the same limit instead of each granting it in full.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from agentdock.errors import AuthConfigError
from agentdock.security.authn import RequestAuthenticator
from agentdock.security.authz import RoleAuthorizer
from agentdock.security.keys import (
    BootstrapKeyResolver,
    ChainKeyResolver,
    InMemoryKeyResolver,
    KeyResolver,
)
from agentdock.security.ratelimit import InMemoryRateLimiter
from agentdock.settings import ENV_BOOTSTRAP_KEY_HASH, ENV_SHARED_RATE_LIMIT, ENV_STORE
from agentdock.spec.models import DockSpec
from agentdock.spec.ratelimit import parse_rate_limit

if TYPE_CHECKING:
    from agentdock.security.jwt import HS256Verifier, issue_token
    from agentdock.security.oauth2 import OAuth2Verifier
    from agentdock.stages import RateLimiter
    from agentdock.store.base import MetadataStore

__all__ = [
    "BootstrapKeyResolver",
    "ChainKeyResolver",
    "InMemoryKeyResolver",
    "InMemoryRateLimiter",
    "KeyResolver",
    "RequestAuthenticator",
    "RoleAuthorizer",
    "build_authenticator",
    "build_authorizer",
    "build_rate_limiter",
    "issue_token",
    "key_resolver_from_env",
]

logger = logging.getLogger("agentdock.security")


def build_authenticator(spec: DockSpec, *, key_resolver: KeyResolver | None = None) -> RequestAuthenticator:
    """The authenticator for ``spec.auth``. API keys are looked up through ``key_resolver``,
    or, when None, through ``key_resolver_from_env`` (bootstrap key, then the store)."""
    auth = spec.auth
    bearer: HS256Verifier | OAuth2Verifier | None = None
    # PyJWT (and cryptography) load only for the modes that verify tokens: cold start.
    if auth.mode == "jwt":
        from agentdock.security.jwt import HS256Verifier, jwt_secret

        bearer = HS256Verifier(jwt_secret(spec), audience=spec.agent.name)
    elif auth.mode == "oauth2":
        oauth = auth.oauth2
        if oauth is None or not oauth.jwks_url or not oauth.issuer:
            raise AuthConfigError(
                "auth.oauth2",
                "mode is oauth2 but issuer or jwks_url is missing",
                hint="set issuer and jwks_url",
            )
        from agentdock.security.oauth2 import JWKSCache, OAuth2Verifier

        bearer = OAuth2Verifier(
            keys=JWKSCache(oauth.jwks_url), issuer=oauth.issuer, audience=oauth.audience or spec.agent.name
        )
    keys_on = auth.mode == "api_key" or bool(auth.api_keys and auth.api_keys.enabled)
    resolver = (key_resolver or key_resolver_from_env(spec)) if keys_on else None
    return RequestAuthenticator(
        agent=spec.agent.name,
        roles=spec.roles(),
        bearer=bearer,
        keys=resolver,
        rotation_days=auth.api_keys.rotation_days if auth.api_keys else None,
    )


def key_resolver_from_env(spec: DockSpec) -> KeyResolver:
    """``AGENTDOCK_BOOTSTRAP_KEY_HASH`` first, then the store of ``AGENTDOCK_STORE``."""
    resolvers: list[KeyResolver] = []
    bootstrap = os.environ.get(ENV_BOOTSTRAP_KEY_HASH)
    if bootstrap:
        resolver = BootstrapKeyResolver.from_value(bootstrap, spec.agent.name)
        resolvers.append(resolver)
    url = os.environ.get(ENV_STORE)
    if url:
        from agentdock.store import open_store
        from agentdock.store.runtime import StoreKeyResolver

        resolvers.append(StoreKeyResolver(open_store(url)))
    if not resolvers:
        logger.warning(
            "API keys are enabled but neither %s nor %s is set: every key will be refused",
            ENV_BOOTSTRAP_KEY_HASH,
            ENV_STORE,
        )
    return resolvers[0] if len(resolvers) == 1 else ChainKeyResolver(resolvers)


def build_authorizer(spec: DockSpec) -> RoleAuthorizer:
    return RoleAuthorizer(spec.roles())


def build_rate_limiter(spec: DockSpec, *, store: MetadataStore | None = None) -> RateLimiter:
    """Limits of ``auth.rate_limits`` (role -> "N/s|m|h|d"); a role without one is not limited."""
    limits: dict[str, tuple[int, int]] = {}
    for role, text in (spec.auth.rate_limits or {}).items():
        try:
            limits[role] = parse_rate_limit(text)
        except ValueError as exc:
            raise AuthConfigError(f"auth.rate_limits.{role}", str(exc)) from None
    if store is None and limits:
        store = shared_store_from_env()
    if store is not None:
        from agentdock.store.runtime import StoreRateLimiter

        return StoreRateLimiter(store, limits)
    return InMemoryRateLimiter(limits)


SHARED_SCHEMES = ("dynamodb", "postgres", "postgresql")


def shared_store_from_env() -> MetadataStore | None:
    """The store of ``AGENTDOCK_STORE`` when instances share it (a server database, or any
    store with ``AGENTDOCK_SHARED_RATE_LIMIT=1``); None for a per-process SQLite/memory store."""
    url = os.environ.get(ENV_STORE)
    if not url:
        return None
    scheme = url.split("://", 1)[0].lower()
    forced = os.environ.get(ENV_SHARED_RATE_LIMIT, "").lower() in ("1", "true", "yes")
    if scheme not in SHARED_SCHEMES and not forced:
        return None
    from agentdock.store import open_store

    return open_store(url)


def __getattr__(name: str) -> object:
    if name == "issue_token":  # lazy: see build_authenticator
        from agentdock.security.jwt import issue_token

        return issue_token
    raise AttributeError(f"module 'agentdock.security' has no attribute {name!r}")
