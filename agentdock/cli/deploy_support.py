"""Helpers behind the deploy commands: error mapping, store/target resolution, the first API
key, and the ready-to-paste curl line. Kept out of deploy_cmds.py so each command stays short."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agentdock.cli.output import EXIT_USAGE, fail
from agentdock.errors import AgentDockError, DockfileInvalid, TargetNotFound
from agentdock.settings import ENV_STORE
from agentdock.targets_catalog import DEFAULT_STORES

if TYPE_CHECKING:
    from agentdock.security.apikeys import NewKey
    from agentdock.spec import Loaded
    from agentdock.spec.models import DockSpec
    from agentdock.store.base import MetadataStore


@contextmanager
def guarded(as_json: bool) -> Iterator[None]:
    """Turn library errors into the CLI's messages and exit codes (never a traceback)."""
    try:
        yield
    except TargetNotFound as exc:
        fail(exc, as_json=as_json, code=EXIT_USAGE)
    except DockfileInvalid as exc:
        if not as_json:
            for err in exc.errors:
                where = f"{err.file}:{err.line}: " if getattr(err, "line", None) else ""
                typer.echo(f"  {where}{err}", err=True)
        fail(exc, as_json=as_json)
    except AgentDockError as exc:
        fail(exc, as_json=as_json)


def need_file(path: Path, as_json: bool) -> Path:
    if not path.is_file():
        fail(
            f"{path}: no such Dockfile (pass the path, e.g. examples/doc_summarizer/Dockfile.yaml)",
            as_json=as_json,
            code=EXIT_USAGE,
        )
    return path


def parse_env(pairs: list[str], as_json: bool) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--env {pair!r}: expected KEY=VALUE", as_json=as_json, code=EXIT_USAGE)
        env[key] = value
    return env


def store_for(
    url: str | None,
    spec: DockSpec | None = None,
    target: str = "local",
    *,
    create: bool = False,
    plan_only: bool = False,
) -> MetadataStore:
    """--store, else (cloud targets) the Dockfile's deploy.store, else env AGENTDOCK_STORE, else the
    target's default: DynamoDB for Lambda (created on deploy when ``create``; a dry run before the
    first deploy plans against an empty store), SQLite otherwise. The local target ignores
    deploy.store: it must work offline."""
    from agentdock.errors import StoreNotInitialized
    from agentdock.store import open_store

    if url is None and spec is not None and target != "local" and spec.deploy and spec.deploy.store:
        url = spec.deploy.store
    if url is None and not os.environ.get(ENV_STORE) and target in DEFAULT_STORES:
        store = open_store(DEFAULT_STORES[target], auto_init=True if create else None)
        if plan_only:
            try:
                store.get_key("_")  # cheap probe: is the table there yet?
            except StoreNotInitialized:
                return open_store("memory://")
        return store
    return open_store(url)


def load(path: Path, env: dict[str, str], *, target: str, dry_run: bool = False) -> Loaded:
    """Validate the Dockfile. The local target runs the function here, so its ${VAR} references
    must resolve now (except for a dry run); cloud targets and builds keep them for run time."""
    from agentdock.spec import load_dockfile

    return load_dockfile(path, env=env or None, allow_unresolved=dry_run or target != "local")


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
    from agentdock.store.base import APIKeyRecord, AuditRecord, utcnow

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


def _sample(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if kind == "string":
        return "AgentDock turns an agent into an endpoint. It deploys in one command."
    if kind == "integer":
        return 20
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        props = schema.get("properties") or {}
        names = schema.get("required") or list(props)[:1]
        return {name: _sample(props.get(name, {})) for name in names}
    return None


def sample_input(loaded: Loaded) -> dict[str, Any]:
    """A small valid-looking input: required fields of the input schema (inline or class)."""
    io = loaded.spec.io_schema
    schema: dict[str, Any] | None = io.input
    if schema is None and io.input_class:
        try:
            from agentdock.spec import import_object

            schema = import_object(io.input_class, loaded.base_dir).model_json_schema()
        except Exception:
            schema = None
    value = _sample(schema or {"type": "object"})
    return value if isinstance(value, dict) else {}


def try_lines(loaded: Loaded, url: str | None, key: NewKey | None, dockfile: Path) -> list[str]:
    """What to paste next: a curl line with the key (or a token issue line for jwt-only agents)."""
    if not url:
        return []
    spec = loaded.spec
    body = shlex.quote(json.dumps(sample_input(loaded)))
    invoke = f"curl -s {url}/invoke -H 'content-type: application/json' -d {body}"
    if accepts_keys(spec):
        secret = key.key if key else "$AGENTDOCK_KEY"
        lines = [f"  try:  {invoke} -H 'x-api-key: {secret}'"]
        if key is None:
            lines.append(
                f"        (AGENTDOCK_KEY = one of your keys; a new one: agentdock keys create {spec.agent.name} --role {invoke_role(spec)})"
            )
        return lines
    role = invoke_role(spec) or "developer"
    return [
        f"  token: TOKEN=$(agentdock token issue {shlex.quote(str(dockfile))} --sub you --role {role})",
        f'  try:  {invoke} -H "authorization: Bearer $TOKEN"',
    ]


def target_settings(region: str | None, endpoint_url: str | None) -> dict[str, str]:
    """Target settings given as flags (only those set); targets ignore settings they do not use."""
    return {k: v for k, v in {"region": region, "endpoint_url": endpoint_url}.items() if v}


def open_target(
    target: str, store: str | None, region: str | None, endpoint_url: str | None, **settings: Any
) -> Any:
    """The target an existing agent lives on (rollback, promote, status, logs, destroy), bound to
    the store that target reads by default."""
    from agentdock.targets import get_target

    return get_target(
        target, store=store_for(store, target=target), **settings, **target_settings(region, endpoint_url)
    )


class Clock:
    def __init__(self) -> None:
        self.t0 = time.monotonic()

    @property
    def ms(self) -> int:
        return int((time.monotonic() - self.t0) * 1000)


def interactive() -> bool:
    return sys.stdin.isatty()
