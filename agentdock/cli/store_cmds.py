"""``agentdock keys | versions | audit | store init``: the metadata store from the command line.

Every command takes ``--store URL`` (else AGENTDOCK_STORE, else the embedded SQLite file) and
``--json``; every command that changes something writes an audit record naming the actor
(``--actor``, else AGENTDOCK_ACTOR, else the OS user). A key's secret is printed once, at
creation or rotation; only its hash is stored, and listings never show either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from agentdock.cli.output import EXIT_USAGE, emit, fail
from agentdock.errors import AgentDockError, AgentNotFound

if TYPE_CHECKING:
    from agentdock.store.base import APIKeyRecord, MetadataStore

STORE_OPT = typer.Option(
    None, "--store", help="Metadata store URL (default: $AGENTDOCK_STORE, else SQLite in AGENTDOCK_HOME)."
)
ACTOR_OPT = typer.Option(
    None, "--actor", help="Who is acting, for the audit log (default $AGENTDOCK_ACTOR or the OS user)."
)
JSON_OPT = typer.Option(False, "--json", help="Print one JSON object.")
EXPIRES_OPT = typer.Option(
    None,
    "--expires-in",
    help="Key lifetime, e.g. 30d, 12h, 90m (default: auth.api_keys.rotation_days, else none).",
)

keys_app = typer.Typer(
    help="Create, list, rotate and revoke API keys (only hashes are stored).", no_args_is_help=True
)
store_app = typer.Typer(help="Metadata store administration.", no_args_is_help=True)


@contextmanager
def _store(url: str | None, as_json: bool, agent: str | None = None) -> Iterator[MetadataStore]:
    """The opened store (``--store``, else the agent's remembered store, else the default);
    user mistakes exit 2, store failures exit 1 (never a traceback)."""
    from agentdock.ops.stores import agent_store
    from agentdock.store import open_store

    try:
        meta = agent_store(agent, url) if agent else open_store(url)
    except AgentDockError as exc:
        fail(exc, as_json=as_json)
    try:
        yield meta
    except ValueError as exc:
        fail(str(exc), as_json=as_json, code=EXIT_USAGE)
    except AgentDockError as exc:
        fail(exc, as_json=as_json)
    finally:
        meta.close()


def _unknown_agent(agent: str, as_json: bool) -> NoReturn:
    """The one answer (exit 1) every command gives for an agent the store does not know."""
    fail(
        AgentNotFound(
            agent, f"no agent named {agent} in the store", hint="deploy it first: agentdock deploy"
        ),
        as_json=as_json,
    )


def _duration(text: str | None, as_json: bool) -> timedelta | None:
    from agentdock.ops.keys import parse_duration

    try:
        return parse_duration(text) if text else None
    except ValueError as exc:
        fail(str(exc), as_json=as_json, code=EXIT_USAGE)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _who(actor: str | None) -> str:
    from agentdock.store import actor as who

    return who(actor)


def _shown_once(secret: str, record: APIKeyRecord, verb: str) -> tuple[dict[str, Any], list[str]]:
    bootstrap = f"{record.key_id}:{record.role}:{record.key_hash}"
    data = {
        "ok": True,
        "agent": record.agent,
        "key_id": record.key_id,
        "role": record.role,
        "key": secret,
        "created_at": _iso(record.created_at),
        "expires_at": _iso(record.expires_at),
        "bootstrap": bootstrap,
    }
    human = [
        f"✓ {verb} API key {record.key_id} for {record.agent} (role {record.role}, "
        f"expires {_iso(record.expires_at) or 'never'})",
        f"  key: {secret}   (shown once: store it now)",
        f"  without a store, a function accepts it with AGENTDOCK_BOOTSTRAP_KEY_HASH={bootstrap}",
    ]
    return data, human


@keys_app.command("create")
def keys_create(
    agent: str = typer.Argument(..., help="Agent name."),
    role: str = typer.Option(..., "--role", help="Role the key grants (a role of the agent's Dockfile)."),
    expires_in: str | None = EXPIRES_OPT,
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Create an API key; prints the secret once."""
    from agentdock.ops.keys import create_key

    lifetime = _duration(expires_in, as_json)
    with _store(store, as_json, agent) as meta:
        secret, record = create_key(meta, agent, role, actor=_who(actor), expires_in=lifetime)
    data, human = _shown_once(secret, record, "Created")
    emit(data, as_json=as_json, human=human)


@keys_app.command("list")
def keys_list(
    agent: str = typer.Argument(..., help="Agent name."),
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """List an agent's API keys (never the secret or its hash)."""
    from agentdock.ops.keys import key_state

    with _store(store, as_json, agent) as meta:
        keys = meta.list_keys(agent)
        known = bool(keys) or any(a.name == agent for a in meta.list_agents())
    if not known:
        _unknown_agent(agent, as_json)
    rows: list[dict[str, Any]] = [
        {
            "key_id": k.key_id,
            "role": k.role,
            "state": key_state(k),
            "created_at": _iso(k.created_at),
            "expires_at": _iso(k.expires_at),
            "revoked_at": _iso(k.revoked_at),
            "last_used_at": _iso(k.last_used_at),
        }
        for k in keys
    ]
    human = [f"{'KEY ID':<14}{'ROLE':<12}{'STATE':<9}{'CREATED':<21}{'EXPIRES':<21}LAST USED"]
    human += [
        f"{row['key_id']:<14}{row['role']:<12}{row['state']:<9}{(row['created_at'] or '')[:19]:<21}"
        f"{(row['expires_at'] or 'never')[:19]:<21}{(row['last_used_at'] or 'never')[:19]}"
        for row in rows
    ]
    emit(
        {"ok": True, "agent": agent, "keys": rows},
        as_json=as_json,
        human=human if rows else f"no API keys for {agent}",
    )


@keys_app.command("rotate")
def keys_rotate(
    agent: str = typer.Argument(..., help="Agent name."),
    key_id: str = typer.Argument(..., help="Id of the key to replace (see keys list)."),
    expires_in: str | None = typer.Option(
        None, "--expires-in", help="Lifetime of the new key (default: the old key's lifetime)."
    ),
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Replace a key: a new key with the same role, then the old one revoked; prints the new secret once."""
    from agentdock.ops.keys import rotate_key

    lifetime = _duration(expires_in, as_json)
    with _store(store, as_json, agent) as meta:
        secret, record = rotate_key(meta, agent, key_id, actor=_who(actor), expires_in=lifetime)
    data, human = _shown_once(secret, record, "Rotated: new")
    emit(data | {"revoked_key_id": key_id}, as_json=as_json, human=[*human, f"  revoked {key_id}"])


@keys_app.command("revoke")
def keys_revoke(
    agent: str = typer.Argument(..., help="Agent name."),
    key_id: str = typer.Argument(..., help="Id of the key to revoke (see keys list)."),
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Revoke a key; running functions refuse it within their cache TTL (5 s)."""
    from agentdock.ops.keys import revoke_key

    with _store(store, as_json, agent) as meta:
        key, already = revoke_key(meta, agent, key_id, actor=_who(actor))
    text = f"key {key_id} was already revoked" if already else f"✓ Revoked API key {key_id} of {agent}"
    data = {
        "ok": True,
        "agent": agent,
        "key_id": key_id,
        "revoked_at": _iso(key.revoked_at),
        "already": already,
    }
    emit(data, as_json=as_json, human=text)


def versions(
    agent: str = typer.Argument(..., help="Agent name."),
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """List an agent's immutable versions and where its aliases point."""
    with _store(store, as_json, agent) as meta:
        records = meta.list_versions(agent)
        pointers = meta.list_pointers(agent)
        known = bool(records or pointers) or any(a.name == agent for a in meta.list_agents())
    if not known:
        _unknown_agent(agent, as_json)
    live: dict[int, list[str]] = {}
    for p in pointers:
        if p.live_version is not None:
            live.setdefault(p.live_version, []).append(f"{p.target}/{p.alias}")
    rows: list[dict[str, Any]] = [
        {
            "number": v.number,
            "label": v.label,
            "status": v.status,
            "target": v.target,
            "content_hash": v.content_hash,
            "image": v.image,
            "created_by": v.created_by,
            "created_at": _iso(v.created_at),
            "live_at": live.get(v.number, []),
        }
        for v in records
    ]
    ptrs = [
        {
            k: getattr(p, k)
            for k in (
                "target",
                "alias",
                "live_version",
                "previous_version",
                "canary_version",
                "canary_weight",
                "status",
                "url",
                "revision",
            )
        }
        | {"updated_at": _iso(p.updated_at)}
        for p in pointers
    ]
    human = [
        f"{'VERSION':<9}{'LABEL':<12}{'STATUS':<12}{'TARGET':<10}{'HASH':<20}{'CREATED':<21}{'BY':<12}LIVE AT"
    ]
    human += [
        f"{'v' + str(row['number']):<9}{row['label'] or '-':<12}{row['status']:<12}{row['target']:<10}"
        f"{row['content_hash'][:18]:<20}{row['created_at'][:19]:<21}{row['created_by'][:11]:<12}{', '.join(row['live_at'])}"
        for row in rows
    ]
    emit(
        {"ok": True, "agent": agent, "versions": rows, "pointers": ptrs},
        as_json=as_json,
        human=human if rows else f"no versions of {agent} yet",
    )


def audit(
    agent: str | None = typer.Argument(None, help="Only this agent's records (default: all)."),
    limit: int = typer.Option(
        50, "--limit", min=1, max=10_000, help="At most this many records, newest first."
    ),
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Show the audit log, newest first."""
    with _store(store, as_json, agent) as meta:
        records = meta.list_audit(agent, limit=limit)
    rows: list[dict[str, Any]] = [
        {
            "at": _iso(r.at),
            "actor": r.actor,
            "action": r.action,
            "agent": r.agent,
            "target": r.target,
            "details": r.details,
        }
        for r in records
    ]
    human = [
        f"{(row['at'] or '')[:19]}  {row['actor']:<12} {row['action']:<16} {row['agent'] or '-':<16} "
        f"{row['target'] or '-':<8} {json.dumps(row['details'], separators=(',', ':'), default=str)}"
        for row in rows
    ]
    emit({"ok": True, "agent": agent, "records": rows}, as_json=as_json, human=human or "no audit records")


@store_app.command("init")
def store_init(
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Create the store's tables/schema (or migrate them); safe to run again."""
    from agentdock.ops.keys import audit as write_audit
    from agentdock.store import open_store, redact_url, resolve_store_url
    from agentdock.store.migrations import LATEST

    url = resolve_store_url(store)
    shown = redact_url(url)
    try:
        meta = open_store(url, auto_init=False)
        try:
            meta.init()
            write_audit(meta, _who(actor), "store.init", None, {"store": shown, "schema_version": LATEST})
        finally:
            meta.close()
    except AgentDockError as exc:
        fail(exc, as_json=as_json)
    data = {"ok": True, "store": shown, "schema_version": LATEST}
    emit(data, as_json=as_json, human=f"✓ Store ready: {shown} (schema v{LATEST})")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(store_app, name="store")
    app.command("versions")(versions)
    app.command("audit")(audit)
