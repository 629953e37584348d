"""API key format and hashing.

A key reads ``agd_<key_id>_<secret>``: ``key_id`` (12 hex chars) is public and indexes the
store; ``secret`` is 43 url-safe chars (32 random bytes). Only ``hash_api_key(full_key)``
is ever stored. With a server pepper (env ``AGENTDOCK_KEY_PEPPER``) the hash is
HMAC-SHA256, else SHA-256; comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from agentdock.settings import ENV_KEY_PEPPER

PREFIX = "agd"


@dataclass(frozen=True)
class NewKey:
    key_id: str
    key: str  # shown to the user once, never stored
    key_hash: str


def hash_api_key(key: str, pepper: str | None = None) -> str:
    pepper = pepper if pepper is not None else os.environ.get(ENV_KEY_PEPPER, "")
    data = key.encode()
    if pepper:
        return "hmac-sha256:" + hmac.new(pepper.encode(), data, hashlib.sha256).hexdigest()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def generate_api_key(pepper: str | None = None) -> NewKey:
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id=key_id, key=key, key_hash=hash_api_key(key, pepper))


def parse_key_id(key: str) -> str | None:
    """The key id of a well-formed key, else None (no store lookup for garbage)."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 12 or len(parts[2]) < 43:
        return None
    return parts[1]


def verify_api_key(key: str, stored_hash: str, pepper: str | None = None) -> bool:
    return hmac.compare_digest(hash_api_key(key, pepper), stored_hash)
