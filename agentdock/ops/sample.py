"""The sample call shown after a deploy: a small valid-looking input and the line to paste
(a curl with the new key, or a token line for JWT-only agents)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdock.ops.keys import accepts_keys, invoke_role

if TYPE_CHECKING:
    from agentdock.security.apikeys import NewKey
    from agentdock.spec import Loaded


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
        # double quotes: a literal key pastes as is and $AGENTDOCK_KEY expands (single quotes kept
        # it literal, so the pasted line got 401)
        secret = key.key if key else "$AGENTDOCK_KEY"
        lines = [f'  try:  {invoke} -H "x-api-key: {secret}"']
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
