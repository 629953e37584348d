"""Where the authenticator finds API key records: the ``KeyResolver`` seam.

A resolver maps a public key id to its stored record (hash, role, expiry, revocation) and
takes note of use. Implementations:

* ``agentdock.store.runtime.StoreKeyResolver`` ([STORE]): the metadata store behind a TTL
  cache of ``ttl_s`` = 5 s, so a revocation is seen by every running function within 5 s;
* ``InMemoryKeyResolver``: records held in the process (tests, benchmarks, embedding);
* ``BootstrapKeyResolver``: the one key given by ``AGENTDOCK_BOOTSTRAP_KEY_HASH`` =
  ``"key_id:role:hash"`` (the hash as ``hash_api_key`` prints it, e.g. ``sha256:ab12...``),
  for the local target and first deploys before any key is in a store;
* ``ChainKeyResolver``: asks several in order (bootstrap first, then the store).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from agentdock.errors import AuthConfigError
from agentdock.settings import ENV_BOOTSTRAP_KEY_HASH
from agentdock.store.base import APIKeyRecord


class KeyResolver(Protocol):
    async def resolve(self, key_id: str) -> APIKeyRecord | None:
        """The record of ``key_id`` (revoked and expired ones included), None if unknown."""

    def note_use(self, key_id: str) -> None:
        """Remember that the key was used; must not block (the store flushes in batches)."""


class InMemoryKeyResolver:
    """Records in a dict. ``last_used`` is kept here instead of a store."""

    def __init__(self, records: Iterable[APIKeyRecord] = ()) -> None:
        self._records = {r.key_id: r for r in records}
        self.last_used: dict[str, datetime] = {}

    def add(self, record: APIKeyRecord) -> None:
        self._records[record.key_id] = record

    async def resolve(self, key_id: str) -> APIKeyRecord | None:
        return self._records.get(key_id)

    def note_use(self, key_id: str) -> None:
        self.last_used[key_id] = datetime.now(UTC)


class BootstrapKeyResolver(InMemoryKeyResolver):
    """The single key of ``AGENTDOCK_BOOTSTRAP_KEY_HASH``. Its ``created_at`` is the process
    start, so ``rotation_days`` counts from there; rotate it by changing the variable."""

    @classmethod
    def from_value(cls, value: str, agent: str) -> BootstrapKeyResolver:
        return cls([parse_bootstrap(value, agent)])


def parse_bootstrap(value: str, agent: str) -> APIKeyRecord:
    """``"key_id:role:hash"`` -> a record for ``agent``; the hash itself contains ':'."""
    key_id, _, rest = value.strip().partition(":")
    role, _, key_hash = rest.partition(":")
    if not key_id or not role or not key_hash.startswith(("sha256:", "hmac-sha256:")):
        raise AuthConfigError(
            ENV_BOOTSTRAP_KEY_HASH,
            "expected 'key_id:role:hash' with a hash from hash_api_key (sha256:... or hmac-sha256:...)",
            hint="agentdock keys create prints the value to set",
        )
    return APIKeyRecord(
        key_id=key_id, agent=agent, role=role, key_hash=key_hash, created_at=datetime.now(UTC)
    )


class ChainKeyResolver:
    """First resolver that knows the key wins; use is noted on the one that resolved it."""

    def __init__(self, resolvers: Sequence[KeyResolver]) -> None:
        self.resolvers = tuple(resolvers)
        self._owner: dict[str, KeyResolver] = {}

    async def resolve(self, key_id: str) -> APIKeyRecord | None:
        for resolver in self.resolvers:
            record = await resolver.resolve(key_id)
            if record is not None:
                if len(self._owner) < 100_000:  # bounded: only keys that resolved get here
                    self._owner[key_id] = resolver
                return record
        return None

    async def ready(self) -> bool:
        return await resolver_ready(*self.resolvers)

    def note_use(self, key_id: str) -> None:
        owner = self._owner.get(key_id)
        if owner is not None:
            owner.note_use(key_id)


async def resolver_ready(*resolvers: object) -> bool:
    """True when every resolver that can tell (has ``ready()``) says it can answer lookups."""
    for resolver in resolvers:
        check = getattr(resolver, "ready", None)
        if check is not None and not await check():
            return False
    return True
