"""Helpers shared by the security and policy tests (imported as ``sechelpers``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentdock.security.apikeys import NewKey, generate_api_key
from agentdock.spec.models import DockSpec
from agentdock.store.base import APIKeyRecord

AGENT = "sec-agent"
SECRET = "s3cret-for-tests-" + "x" * 32  # >= 32 bytes: no InsecureKeyLengthWarning

BASE: dict[str, Any] = {
    "version": "1.0",
    "agent": {"name": AGENT, "entrypoint": "agent:build", "framework": "langgraph"},
    "model": {"provider": "openai", "name": "gpt-4o-mini"},
    "io_schema": {
        "input": {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]},
        "output": {"type": "object", "properties": {"answer": {"type": "string"}}},
    },
    "auth": {"mode": "jwt", "jwt": {"secret_key": SECRET}, "api_keys": {"enabled": True}},
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def make_spec(**sections: Any) -> DockSpec:
    """The base spec with sections merged in (``auth={"mode": "api_key"}`` merges into auth)."""
    return DockSpec.model_validate(_merge(BASE, sections))


@dataclass
class IssuedKey:
    new: NewKey
    record: APIKeyRecord


def make_key(role: str, *, agent: str = AGENT, **record: Any) -> IssuedKey:
    """A fresh API key and its stored record (hash only)."""
    new = generate_api_key(pepper="")
    fields = {"created_at": datetime.now(UTC), **record}
    return IssuedKey(
        new, APIKeyRecord(key_id=new.key_id, agent=agent, role=role, key_hash=new.key_hash, **fields)
    )


@dataclass
class JWKSServer:
    """What the ``jwks_server`` fixture serves: ``keys`` as a JWKS; ``requests`` counts fetches."""

    url: str
    keys: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
