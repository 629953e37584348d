"""Auth consistency (4005): the mode has what it needs, roles and rate limits make sense."""

from __future__ import annotations

from collections.abc import Iterator

from agentdock.errors import AuthConfigError, DockfileError
from agentdock.spec.context import Check, Context
from agentdock.spec.models import DEFAULT_ROLES, PERMISSIONS
from agentdock.spec.ratelimit import parse_rate_limit

MIN_SECRET_CHARS = 16


def check_mode(ctx: Context) -> Iterator[DockfileError]:
    auth = ctx.spec.auth
    if auth.mode == "jwt" and not (auth.jwt and auth.jwt.secret_key):
        yield AuthConfigError(
            "auth.jwt.secret_key",
            "mode is jwt but no secret_key is set",
            hint="add auth.jwt.secret_key: ${JWT_SECRET}",
        )
    if auth.mode == "api_key" and not (auth.api_keys and auth.api_keys.enabled):
        yield AuthConfigError(
            "auth.api_keys.enabled",
            "mode is api_key but api_keys.enabled is not true",
            hint="add auth.api_keys.enabled: true",
        )
    if auth.mode == "oauth2":
        oauth2 = auth.oauth2
        for key, example in (
            ("issuer", "https://issuer.example.com/"),
            ("jwks_url", "https://issuer.example.com/.well-known/jwks.json"),
        ):
            value = getattr(oauth2, key) if oauth2 else None
            if not value:
                yield AuthConfigError(
                    f"auth.oauth2.{key}",
                    f"mode is oauth2 but oauth2.{key} is not set",
                    hint=f"add auth.oauth2.{key}: {example}",
                )
            elif (
                key == "jwks_url"
                and ctx.known("auth.oauth2.jwks_url")
                and not value.startswith(("https://", "http://"))
            ):
                yield AuthConfigError(
                    "auth.oauth2.jwks_url", f"jwks_url must be an http(s) URL, got {value!r}"
                )


def check_secret_length(ctx: Context) -> Iterator[DockfileError]:
    jwt = ctx.spec.auth.jwt
    secret = jwt.secret_key if jwt else None
    if secret and ctx.known("auth.jwt.secret_key") and len(secret) < MIN_SECRET_CHARS:
        yield AuthConfigError(
            "auth.jwt.secret_key",
            f"secret_key is {len(secret)} characters; at least {MIN_SECRET_CHARS} are required",
            hint="use a long random value (openssl rand -hex 32) through auth.jwt.secret_key: ${JWT_SECRET}",
        )


def check_roles(ctx: Context) -> Iterator[DockfileError]:
    seen: set[str] = set()
    for i, role in enumerate(ctx.spec.auth.roles or []):
        if role.name in seen:
            yield AuthConfigError(f"auth.roles[{i}].name", f"duplicate role '{role.name}'")
        seen.add(role.name)
        for j, permission in enumerate(role.permissions):
            if permission not in PERMISSIONS:
                yield AuthConfigError(
                    f"auth.roles[{i}].permissions[{j}]",
                    f"unknown permission '{permission}' in role '{role.name}' (known: {', '.join(PERMISSIONS)})",
                )


def check_rate_limits(ctx: Context) -> Iterator[DockfileError]:
    auth = ctx.spec.auth
    roles = [r.name for r in auth.roles] if auth.roles else list(DEFAULT_ROLES)
    for role, limit in (auth.rate_limits or {}).items():
        path = f"auth.rate_limits.{role}"
        if role not in roles:
            yield AuthConfigError(path, f"rate limit for unknown role '{role}' (roles: {', '.join(roles)})")
        if not ctx.known(path):
            continue
        try:
            parse_rate_limit(limit)
        except ValueError as exc:
            yield AuthConfigError(path, str(exc), hint=f"auth.rate_limits.{role}: 100/m")


AUTH_CHECKS: tuple[Check, ...] = (check_mode, check_secret_length, check_roles, check_rate_limits)
