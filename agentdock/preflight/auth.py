"""Credentials the preflight calls the function with, made the way a real caller gets them:

* API keys: a key minted into the store the function reads (``AGENTDOCK_STORE`` of the target's
  environment) and revoked afterwards; when the function reads no store, the runtime's one-key
  bootstrap (``AGENTDOCK_BOOTSTRAP_KEY_HASH``: only the hash is in the function's environment);
* JWT: an HS256 token signed with the secret the function itself resolves;
* OAuth2 (tokens from an external issuer): none can be made here, so a 401/403 on the
  protected routes counts as "mounted and enforcing auth" (``strict`` is False).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdock.errors import PreflightFailed
from agentdock.settings import ENV_BOOTSTRAP_KEY_HASH, ENV_STORE


@dataclass
class Credentials:
    headers: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # added to the function's environment
    how: str = "none"
    strict: bool = True  # False: 401/403 on protected routes is accepted (no way to get a token)
    cleanup: Callable[[], None] = lambda: None


def _role(spec: Any, needs: tuple[str, ...]) -> str | None:
    roles = spec.roles()
    fits = sorted((len(perms), name) for name, perms in roles.items() if all(n in perms for n in needs))
    return fits[0][1] if fits else None


def credentials(raw: dict[str, Any], target_env: Mapping[str, str]) -> Credentials:
    from agentdock.runtime.secrets import SecretResolver, resolve_frozen
    from agentdock.spec import spec_from_frozen

    sources = (raw.get("deploy") or {}).get("secrets") or {}
    try:
        spec = spec_from_frozen(resolve_frozen(raw, resolver=SecretResolver(sources, env=dict(target_env))))
    except Exception as exc:  # an unresolved reference: the function could not start either
        raise PreflightFailed(
            "${VAR}",
            f"the spec does not resolve with the target's environment: {exc}",
            hint="pass the values with --env KEY=VALUE or a .env beside the Dockfile",
        ) from exc
    mode = spec.auth.mode
    if mode == "jwt":
        from agentdock.security.jwt import issue_token

        role = _role(spec, ("invoke", "read_docs")) or _role(spec, ("invoke",))
        if role is None:
            raise PreflightFailed("auth.roles", "no role may invoke the agent")
        token = issue_token(spec, sub="agentdock-preflight", role=role, ttl_s=300)
        return Credentials(
            {"authorization": f"Bearer {token}"}, how=f"JWT signed with the resolved secret (role {role})"
        )
    if mode != "api_key" and not (spec.auth.api_keys and spec.auth.api_keys.enabled):
        return Credentials(
            how=f"auth.mode {mode}: no token can be made here (401/403 accepted)", strict=False
        )
    role = _role(spec, ("invoke", "read_docs")) or _role(spec, ("invoke",))
    if role is None:
        raise PreflightFailed("auth.roles", "no role may invoke the agent")
    store_url = target_env.get(ENV_STORE)
    if store_url:
        from datetime import timedelta

        from agentdock.security.apikeys import generate_api_key
        from agentdock.store import open_store
        from agentdock.store.base import APIKeyRecord, utcnow

        store = open_store(store_url, auto_init=True)
        store.ensure_agent(spec.agent.name)
        new, now = generate_api_key(), utcnow()
        # Short-lived on purpose: revoked after the checks, and expired soon even if that fails.
        record = APIKeyRecord(
            new.key_id, spec.agent.name, role, new.key_hash, now, now + timedelta(minutes=15)
        )
        store.put_key(record)
        secret = new.key

        def revoke() -> None:
            store.revoke_key(record.key_id, utcnow())

        return Credentials(
            {"x-api-key": secret},
            how=f"API key minted into the function's store (role {role})",
            cleanup=revoke,
        )
    from agentdock.security.apikeys import generate_api_key

    key = generate_api_key()
    return Credentials(
        {"x-api-key": key.key},
        {ENV_BOOTSTRAP_KEY_HASH: f"{key.key_id}:{role}:{key.key_hash}"},
        how=f"bootstrap API key (the target sets no store; role {role})",
    )
