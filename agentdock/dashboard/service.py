"""What the console does, on the same library calls the CLI makes: ``agentdock.ops.manage`` for
status, rollback, promote and logs, ``agentdock.ops.keys`` for keys. No second implementation.

Each function takes the open store and returns plain JSON-ready data. Calls that may block on a
target (health probes, cloud APIs) run in the web server's thread pool (see ``routes.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from agentdock.dashboard.auth import CONSOLE
from agentdock.dashboard.metrics import WINDOWS_S, filter_lines, summarize
from agentdock.errors import CapabilityMissing, DeployError, NotFound
from agentdock.ops import manage
from agentdock.store.base import MetadataStore, Pointer

LOG_LINES_FOR_METRICS = 20000


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def agent_names(store: MetadataStore) -> list[str]:
    return sorted(a.name for a in store.list_agents() if a.name != CONSOLE)


def live_pointer(store: MetadataStore, agent: str) -> Pointer | None:
    """The agent's live pointer on the target it was last moved on (one target per agent here)."""
    pointers = [p for p in store.list_pointers(agent) if p.alias == "live" or p.live_version is not None]
    if not pointers:
        return None
    return max(pointers, key=lambda p: (p.updated_at.timestamp() if p.updated_at else 0.0, p.revision))


def fingerprint(store: MetadataStore) -> tuple[Any, ...]:
    """Cheap summary of every pointer and key: when it changes, the console refreshes."""
    out: list[Any] = []
    for name in agent_names(store):
        for p in store.list_pointers(name):
            out.append((name, p.target, p.alias, p.revision, p.live_version, p.canary_version, p.status))
        out.append((name, len(store.list_versions(name))))
        out.extend((name, k.key_id, k.revoked_at) for k in store.list_keys(name))
    return tuple(out)


def _target(store: MetadataStore, name: str, actor: str | None = None, **settings: Any) -> Any:
    from agentdock.targets import get_target

    return get_target(name, store=store, **({"actor": actor} if actor else {}), **settings)


def agent_status(store: MetadataStore, agent: str) -> dict[str, Any]:
    """Target status (live version, URL, health, uptime, history), as ``agentdock status --json``."""
    pointer = live_pointer(store, agent)
    if pointer is None:
        versions = store.list_versions(agent)
        if not versions and agent not in agent_names(store):
            raise NotFound(f"no agent named {agent!r}")
        return {
            "agent": agent,
            "target": None,
            "live_version": None,
            "url": None,
            "healthy": None,
            "details": {},
            "history": [_version(v) for v in reversed(versions)],
        }
    try:
        return dict(manage.status(_target(store, pointer.target), agent).to_dict())
    except DeployError as exc:
        return {
            "agent": agent,
            "target": pointer.target,
            "live_version": pointer.live_version,
            "url": pointer.url,
            "healthy": False,
            "details": {"error": exc.cause},
            "history": [],
        }


def _version(v: Any) -> dict[str, Any]:
    return {
        "version": v.number,
        "status": v.status,
        "content_hash": v.content_hash,
        "created_at": _iso(v.created_at),
        "created_by": v.created_by,
        "label": v.label,
    }


def metrics(store: MetadataStore, agent: str, window: str = "1h") -> dict[str, Any]:
    """Aggregates of the agent's request log over ``window`` (5m, 15m, 1h, 24h)."""
    window_s = WINDOWS_S.get(window)
    if window_s is None:
        raise NotFound(f"unknown window {window!r}", hint="one of: " + ", ".join(WINDOWS_S))
    lines = log_lines(store, agent, lines=LOG_LINES_FOR_METRICS)
    if lines is None:
        return {"available": False, "reason": "this target does not serve logs to this machine"}
    return {"available": True, **summarize(lines, window_s=window_s).to_dict()}


def log_lines(store: MetadataStore, agent: str, *, lines: int = 200) -> list[str] | None:
    """The last ``lines`` lines of the live version's log; None when the target has no logs here."""
    pointer = live_pointer(store, agent)
    if pointer is None or pointer.live_version is None:
        return []
    try:
        return list(manage.logs(_target(store, pointer.target), agent, lines=lines))
    except CapabilityMissing:
        return None
    except DeployError:
        return []


def search_logs(store: MetadataStore, agent: str, *, level: str | None, query: str | None) -> dict[str, Any]:
    lines = log_lines(store, agent, lines=2000)
    if lines is None:
        return {"available": False, "lines": []}
    return {"available": True, "lines": filter_lines(lines, level=level, query=query)[-500:]}


def overview(store: MetadataStore, agent: str) -> dict[str, Any]:
    """The Dockfile summary of the live (else latest) version, with policies and schemas."""
    pointer = live_pointer(store, agent)
    number = pointer.live_version if pointer and pointer.live_version else None
    record = store.get_version(agent, number) if number else store.latest_version(agent)
    if record is None:
        raise NotFound(f"no agent named {agent!r}")
    spec = record.spec
    policies = spec.get("policies") or {}
    safety = policies.get("safety") or {}
    tools = policies.get("tools") or {}
    io = spec.get("io_schema") or {}
    return {
        "agent": agent,
        "version": record.number,
        "description": (spec.get("agent") or {}).get("description"),
        "framework": (spec.get("agent") or {}).get("framework"),
        "model": spec.get("model") or {},
        "auth_mode": (spec.get("auth") or {}).get("mode"),
        "streaming": (spec.get("expose") or {}).get("streaming", "sse"),
        "target": pointer.target if pointer else record.target,
        "url": pointer.url if pointer else None,
        "langfuse_host": ((spec.get("observability") or {}).get("langfuse") or {}).get("host"),
        "policies": {
            "tools_allowed": tools.get("allowed") or [],
            "deny_by_default": tools.get("deny_by_default", True),
            "redact_patterns": len(safety.get("redact_patterns") or []),
            "max_output_chars": safety.get("max_output_chars"),
            "block_prompt_injection": safety.get("block_prompt_injection", True),
            "halt_on_violation": safety.get("halt_on_violation", False),
        },
        "schema": {
            "input": io.get("input") or {"class": io.get("input_class")},
            "output": io.get("output") or {"class": io.get("output_class")},
        },
    }


def deployments(store: MetadataStore, agent: str) -> dict[str, Any]:
    """Versions, newest first, and the audit trail (who moved what, when)."""
    audit = [
        {"action": a.action, "actor": a.actor, "at": _iso(a.at), "target": a.target, "details": a.details}
        for a in store.list_audit(agent, limit=50)
    ]
    return {"versions": [_version(v) for v in reversed(store.list_versions(agent))], "audit": audit}


def move(
    store: MetadataStore,
    agent: str,
    *,
    action: str,
    version: int | None,
    actor: str,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Rollback (to ``version`` or the previous one) or promote, through the agent's target."""
    pointer = live_pointer(store, agent)
    if pointer is None:
        raise NotFound(f"{agent!r} has no deployment to move")
    target = _target(store, pointer.target, actor, progress=progress)
    if action == "promote":
        return dict(manage.promote(target, agent).to_dict())
    return dict(manage.rollback(target, agent, version).to_dict())


def keys(store: MetadataStore, agent: str) -> list[dict[str, Any]]:
    from agentdock.ops.keys import key_state

    return [
        {
            "key_id": k.key_id,
            "role": k.role,
            "state": key_state(k),
            "created_at": _iso(k.created_at),
            "expires_at": _iso(k.expires_at),
            "last_used_at": _iso(k.last_used_at),
        }
        for k in store.list_keys(agent)
    ]


def key_action(
    store: MetadataStore,
    agent: str,
    action: str,
    *,
    actor: str,
    key_id: str | None = None,
    role: str | None = None,
    expires_in: str | None = None,
) -> dict[str, Any]:
    """create / rotate (the new secret, returned once) or revoke, audited with the actor."""
    from agentdock.ops import keys as admin

    lifetime: timedelta | None = admin.parse_duration(expires_in) if expires_in else None
    if action == "create":
        secret, record = admin.create_key(store, agent, role or "", actor=actor, expires_in=lifetime)
    elif action == "rotate":
        secret, record = admin.rotate_key(store, agent, key_id or "", actor=actor, expires_in=lifetime)
    else:
        record, already = admin.revoke_key(store, agent, key_id or "", actor=actor)
        return {"key_id": record.key_id, "state": admin.key_state(record), "already": already}
    return {
        "key_id": record.key_id,
        "role": record.role,
        "key": secret,
        "expires_at": _iso(record.expires_at),
    }
