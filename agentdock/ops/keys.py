"""API key administration on top of the store, each change audited: what ``agentdock keys`` runs,
and the first key a deploy mints (``first_key``).

Mistakes a user can fix (unknown role, bad duration, a key of another agent, a revoked key)
raise ``ValueError`` or ``errors.RecordNotFound`` with a message that names the fix.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from agentdock.errors import RecordNotFound
from agentdock.store.base import APIKeyRecord, AuditRecord, MetadataStore, utcnow

if TYPE_CHECKING:
    from agentdock.security.apikeys import NewKey
    from agentdock.spec.models import DockSpec

DEFAULT_ROLES = ("admin", "developer", "viewer")
ROLE_RULE = re.compile(r"^[a-z][a-z0-9_-]{2,32}$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s`` -> timedelta; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"invalid duration {text!r}: use a positive number and a unit, e.g. 30d, 12h, 90m")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def known_roles(store: MetadataStore, agent: str) -> tuple[str, ...] | None:
    """The roles of the agent's latest registered Dockfile, or None when the store has none."""
    latest = store.latest_version(agent)
    if latest is None:
        return None
    roles = (latest.spec.get("auth") or {}).get("roles")
    return tuple(r["name"] for r in roles if isinstance(r, dict) and "name" in r) if roles else DEFAULT_ROLES


def rotation_days(store: MetadataStore, agent: str) -> int | None:
    """``auth.api_keys.rotation_days`` of the agent's latest Dockfile, if any."""
    latest = store.latest_version(agent)
    days = ((latest.spec.get("auth") or {}).get("api_keys") or {}).get("rotation_days") if latest else None
    return days if isinstance(days, int) and days > 0 else None


def key_state(key: APIKeyRecord) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "active" if key.active() else "expired"


def audit(store: MetadataStore, actor: str, action: str, agent: str | None, details: dict[str, Any]) -> None:
    store.append_audit(AuditRecord(actor, action, agent, None, details, utcnow()))


def _issue(
    store: MetadataStore, agent: str, role: str, lifetime: timedelta | None
) -> tuple[str, APIKeyRecord]:
    from agentdock.security.apikeys import generate_api_key

    new = generate_api_key()
    now = utcnow()
    record = APIKeyRecord(new.key_id, agent, role, new.key_hash, now, now + lifetime if lifetime else None)
    store.put_key(record)
    return new.key, record


def create_key(
    store: MetadataStore, agent: str, role: str, *, actor: str, expires_in: timedelta | None = None
) -> tuple[str, APIKeyRecord]:
    """A new key (the secret, shown once, and its stored record). The role must be one of the
    agent's Dockfile roles when a version is registered; the lifetime defaults to rotation_days."""
    roles = known_roles(store, agent)
    if roles is not None and role not in roles:
        raise ValueError(f"agent {agent} has no role '{role}' (roles: {', '.join(roles)})")
    if roles is None and not ROLE_RULE.match(role):
        raise ValueError(f"invalid role '{role}': lowercase, 3-33 chars, e.g. {', '.join(DEFAULT_ROLES)}")
    if expires_in is None and (days := rotation_days(store, agent)):
        expires_in = timedelta(days=days)
    store.ensure_agent(agent)
    secret, record = _issue(store, agent, role, expires_in)
    expires = record.expires_at.isoformat() if record.expires_at else None
    audit(store, actor, "key.create", agent, {"key_id": record.key_id, "role": role, "expires_at": expires})
    return secret, record


def owned_key(store: MetadataStore, agent: str, key_id: str) -> APIKeyRecord:
    key = store.get_key(key_id)
    if key is None or key.agent != agent:
        raise RecordNotFound(
            f"key {key_id}", f"no API key {key_id} for agent {agent}", hint=f"agentdock keys list {agent}"
        )
    return key


def rotate_key(
    store: MetadataStore, agent: str, key_id: str, *, actor: str, expires_in: timedelta | None = None
) -> tuple[str, APIKeyRecord]:
    """A new key with the old one's role (and lifetime, unless given); then the old one revoked,
    so there is never a moment without a valid key."""
    old = owned_key(store, agent, key_id)
    if old.revoked_at is not None:
        raise ValueError(
            f"key {key_id} is revoked; create a new one: agentdock keys create {agent} --role {old.role}"
        )
    if expires_in is None and old.expires_at is not None:
        expires_in = old.expires_at - old.created_at
    secret, record = _issue(store, agent, old.role, expires_in)
    store.revoke_key(key_id, utcnow())
    audit(
        store, actor, "key.rotate", agent, {"old_key_id": key_id, "key_id": record.key_id, "role": old.role}
    )
    return secret, record


def revoke_key(store: MetadataStore, agent: str, key_id: str, *, actor: str) -> tuple[APIKeyRecord, bool]:
    """Revoke; returns (the record after, whether it was already revoked). Idempotent."""
    key = owned_key(store, agent, key_id)
    if key.revoked_at is not None:
        return key, True
    store.revoke_key(key_id, utcnow())
    audit(store, actor, "key.revoke", agent, {"key_id": key_id, "role": key.role})
    return store.get_key(key_id) or key, False


def accepts_keys(spec: DockSpec) -> bool:
    return spec.auth.mode == "api_key" or bool(spec.auth.api_keys and spec.auth.api_keys.enabled)


def invoke_role(spec: DockSpec) -> str | None:
    """The least-privileged role that may call /invoke."""
    roles = sorted((len(p), name) for name, p in spec.roles().items() if "invoke" in p)
    return roles[0][1] if roles else None


def first_key(store: MetadataStore, spec: DockSpec, actor: str) -> NewKey | None:
    """On an agent's first deploy (no key in the store yet): create one, store only its hash,
    audit it, and return it so it can be shown once."""
    from agentdock.security.apikeys import generate_api_key

    agent = spec.agent.name
    role = invoke_role(spec)
    if not accepts_keys(spec) or role is None or store.list_keys(agent):
        return None
    key = generate_api_key()
    now = utcnow()
    days = spec.auth.api_keys.rotation_days if spec.auth.api_keys else None
    store.put_key(
        APIKeyRecord(
            key_id=key.key_id,
            agent=agent,
            role=role,
            key_hash=key.key_hash,
            created_at=now,
            expires_at=now + timedelta(days=days) if days else None,
        )
    )
    store.append_audit(
        AuditRecord(
            actor=actor,
            action="key.create",
            agent=agent,
            target=None,
            details={"key_id": key.key_id, "role": role, "reason": "first deploy"},
            at=now,
        )
    )
    return key
