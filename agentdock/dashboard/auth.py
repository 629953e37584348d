"""Who is signed in to the console, and what they may do.

Two kinds of credentials sign in:

* a **console key**: an API key of the reserved store principal ``_console`` (not a valid agent
  name, so it can never collide with an agent), with a console role: ``admin`` (everything),
  ``developer`` (deploy, rollback, promote, metrics, logs; no keys) or ``viewer`` (read-only).
  ``agentdock dashboard`` mints the first admin key and prints it once;
* an **agent's own credential**: one of its API keys, or a JWT signed with its ``auth.jwt``
  secret. The agent's Dockfile role decides the permissions, and the session sees that agent only.

A session is a random id in an HttpOnly, SameSite=Strict cookie, held in memory; every
state-changing request also carries the session's CSRF token in ``x-csrf-token``.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentdock.errors import AuthenticationError, PermissionDenied
from agentdock.spec.models import DEFAULT_ROLES, PERMISSIONS
from agentdock.store.base import MetadataStore

CONSOLE = "_console"
COOKIE = "agentdock_console"
CSRF_HEADER = "x-csrf-token"
SESSION_TTL_S = 8 * 3600
CONSOLE_ROLES: dict[str, tuple[str, ...]] = {
    "admin": PERMISSIONS,
    "developer": ("deploy", "rollback", "invoke", "view_metrics", "read_logs", "read_docs"),
    "viewer": ("view_metrics", "read_docs"),
}
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class Principal:
    actor: str  # written to the audit log: "console:<key id>" or "<agent>:<sub>"
    role: str
    permissions: frozenset[str]
    agent: str | None = None  # None: every agent; else this agent only
    agent_key: str | None = field(default=None, repr=False)  # kept in memory for the playground

    def sees(self, agent: str) -> bool:
        return self.agent is None or self.agent == agent

    def require(self, permission: str, agent: str | None = None) -> None:
        if agent is not None and not self.sees(agent):
            raise PermissionDenied(f"this session is for agent {self.agent!r} only")
        if permission not in self.permissions:
            raise PermissionDenied(f"role '{self.role}' lacks the '{permission}' permission")

    def to_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "role": self.role,
            "agent": self.agent,
            "permissions": sorted(self.permissions),
        }


@dataclass
class Session:
    principal: Principal
    csrf: str
    expires: float


def _agent_roles(store: MetadataStore, agent: str) -> dict[str, tuple[str, ...]]:
    latest = store.latest_version(agent)
    roles = ((latest.spec.get("auth") or {}).get("roles") if latest else None) or None
    if not roles:
        return dict(DEFAULT_ROLES)
    return {r["name"]: tuple(r.get("permissions") or ()) for r in roles if isinstance(r, dict)}


def principal_from_key(store: MetadataStore, key: str) -> Principal:
    """The principal of a console key or an agent key; 401 for anything else."""
    from agentdock.security.apikeys import parse_key_id, verify_api_key

    key_id = parse_key_id(key.strip())
    record = store.get_key(key_id) if key_id else None
    if record is None or not verify_api_key(key.strip(), record.key_hash):
        raise AuthenticationError("unknown API key")
    if not record.active(datetime.now(UTC)):
        raise AuthenticationError("this API key is revoked or expired")
    if record.agent == CONSOLE:
        perms = CONSOLE_ROLES.get(record.role)
        if perms is None:
            raise AuthenticationError(f"console key has an unknown role '{record.role}'")
        return Principal(f"console:{record.key_id}", record.role, frozenset(perms))
    perms = _agent_roles(store, record.agent).get(record.role, ())
    return Principal(
        f"{record.agent}:key:{record.key_id}", record.role, frozenset(perms), record.agent, key.strip()
    )


def _resolve_refs(value: str) -> str | None:
    """``${VAR}`` / ``${VAR:-default}`` from this process's environment; None if one is unset."""
    missing = False

    def sub(match: re.Match[str]) -> str:
        nonlocal missing
        got = os.environ.get(match.group(1), match.group(2))
        if got is None:
            missing = True
            return ""
        return got

    out = _REF.sub(sub, value)
    return None if missing else out


def principal_from_jwt(store: MetadataStore, agent: str, token: str) -> Principal:
    """A JWT the agent itself would accept (its ``auth.jwt`` secret, audience = agent name)."""
    from agentdock.security.jwt import ALGORITHMS, decode

    latest = store.latest_version(agent)
    secret_ref = (((latest.spec.get("auth") or {}).get("jwt") or {}).get("secret_key")) if latest else None
    if not secret_ref:
        raise AuthenticationError(f"agent {agent!r} has no auth.jwt secret; sign in with an API key")
    secret = _resolve_refs(str(secret_ref))
    if not secret:
        raise AuthenticationError(
            f"the JWT secret of {agent!r} ({secret_ref}) is not set in the dashboard's environment"
        )
    claims = decode(token.strip(), secret, algorithms=ALGORITHMS, audience=agent)
    role = str(claims.get("role") or "")
    perms = _agent_roles(store, agent).get(role, ())
    return Principal(f"{agent}:jwt:{claims['sub']}", role, frozenset(perms), agent)


class Sessions:
    """In-memory sessions of this console process (a restart signs everyone out)."""

    def __init__(self, ttl_s: float = SESSION_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, principal: Principal) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(principal, secrets.token_urlsafe(32), time.monotonic() + self.ttl_s)
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if v.expires > time.monotonic()}
            self._items[sid] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._items.get(sid)
        if session is None or session.expires <= time.monotonic():
            return None
        return session

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._items.pop(sid or "", None)


def csrf_ok(session: Session, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(session.csrf, header or "")


def ensure_admin_key(store: MetadataStore, *, actor: str, force: bool = False) -> str | None:
    """Mint a console admin key (returned once) when none is active, or when ``force``."""
    from agentdock.ops.keys import create_key

    active = [k for k in store.list_keys(CONSOLE) if k.role == "admin" and k.active()]
    if active and not force:
        return None
    secret, _record = create_key(store, CONSOLE, "admin", actor=actor)
    return secret
