"""The metadata-store contract: agents, immutable versions, pointers, API keys, audit, counters,
secrets at rest.

Backends (``sqlite``, ``dynamodb``, ``postgres``, ``memory``) implement this one class and
are chosen by URL through ``agentdock.store.open_store``. The rules every backend keeps:

* **Versions are written once** (conditional create): ``create_version`` allocates the next
  number of the agent atomically (1, 2, 3, ... strictly increasing, never reused) and
  ``put_version`` refuses a number that exists with ``errors.StoreConflict``. The one mutable
  thing about a version, its ``status``, lives apart from the immutable body (its own row or
  attribute) and is changed only by ``set_version_status``.
* **Pointers move only by compare-and-set** on ``revision``: ``move_pointer`` raises
  ``errors.StoreConflict`` when someone else moved it first; ``update_pointer`` is the retry
  loop around it, so concurrent deploys and rollbacks never lose an update.
* **API keys** are stored as hashes only; **audit** is append-only; **counters** count per fixed
  window and expire by themselves; **secrets** are sealed with envelope encryption before they
  reach a backend (``agentdock.store.crypto``), so no row or item ever holds plaintext.
* A backend whose tables do not exist raises ``errors.StoreNotInitialized`` naming the fix.

All timestamps are timezone-aware UTC ``datetime`` values.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agentdock.errors import StoreConflict

if TYPE_CHECKING:
    from agentdock.store.crypto import KeyEncryptionKey


def utcnow() -> datetime:
    return datetime.now(UTC)


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^/@:]*):[^/@]*@", r"\1:***@", url)


@dataclass(frozen=True)
class AgentRecord:
    name: str
    created_at: datetime


@dataclass(frozen=True)
class VersionRecord:
    agent: str
    number: int
    content_hash: str
    target: str
    image: str | None
    spec: dict[str, Any]  # Dockfile snapshot, secrets kept as ${VAR} references
    created_by: str
    created_at: datetime
    label: str | None = None  # from the Dockfile's metadata.version
    # The one mutable field (registered | live | failed | retired | ...): stored apart from the
    # immutable body above and changed only through ``MetadataStore.set_version_status``.
    status: str = "registered"


@dataclass(frozen=True)
class Pointer:
    """Where an alias of an agent on a target points. ``revision`` increments on every move."""

    agent: str
    target: str
    alias: str
    live_version: int | None
    previous_version: int | None
    revision: int
    canary_version: int | None = None
    canary_weight: float = 0.0
    status: str = "live"
    url: str | None = None
    updated_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


# Counters are dropped this long after their window ended (late hits from a skewed clock still count).
COUNTER_GRACE_S = 3600

# The Pointer fields ``move_pointer`` may set; the rest (identity, revision, timestamps) the store owns.
POINTER_FIELDS = frozenset(
    {"live_version", "previous_version", "canary_version", "canary_weight", "status", "url", "details"}
)


@dataclass(frozen=True)
class APIKeyRecord:
    key_id: str
    agent: str
    role: str
    key_hash: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def active(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired at ``now``."""
        now = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    action: str
    agent: str | None
    target: str | None
    details: dict[str, Any]
    at: datetime


_STATUS_RE = re.compile(r"^[a-z][a-z_-]{1,31}$")
_SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$")


def check_pointer_fields(fields: dict[str, Any]) -> None:
    """Refuse fields a pointer does not have (a typo must not be silently dropped)."""
    unknown = set(fields) - POINTER_FIELDS
    if unknown:
        raise TypeError(f"unknown pointer field(s): {', '.join(sorted(unknown))}")


def check_status(status: str) -> None:
    if not _STATUS_RE.match(status):
        raise ValueError(f"invalid version status {status!r} (lowercase word, e.g. live, failed)")


class MetadataStore(ABC):
    url: str
    #: Key-encryption key for ``put_secret``/``get_secret``; None = from env AGENTDOCK_ENCRYPTION_KEY.
    kek: KeyEncryptionKey | None = None

    @abstractmethod
    def init(self) -> None:
        """Create tables/schema (or migrate them to the current version); idempotent."""

    # agents and versions
    @abstractmethod
    def ensure_agent(self, name: str) -> AgentRecord:
        """Return the agent, creating it first if it does not exist."""

    @abstractmethod
    def list_agents(self) -> list[AgentRecord]:
        """All agents, sorted by name."""

    @abstractmethod
    def create_version(
        self,
        agent: str,
        *,
        content_hash: str,
        target: str,
        spec: dict[str, Any],
        created_by: str,
        image: str | None = None,
        label: str | None = None,
    ) -> VersionRecord:
        """Allocate the next number atomically and write the version once (creates the agent)."""

    @abstractmethod
    def put_version(self, record: VersionRecord) -> VersionRecord:
        """Write a version whose number the caller chose (imports, replication), once:
        raise StoreConflict if that number exists. Creates the agent."""

    @abstractmethod
    def get_version(self, agent: str, number: int) -> VersionRecord:
        """The version, or raise errors.RecordNotFound."""

    @abstractmethod
    def list_versions(self, agent: str) -> list[VersionRecord]:
        """Versions of ``agent``, oldest (v1) first; empty for an unknown agent."""

    @abstractmethod
    def set_version_status(self, agent: str, number: int, status: str) -> None:
        """Change the one mutable field of a version; raise errors.RecordNotFound if missing."""

    def latest_version(self, agent: str) -> VersionRecord | None:
        versions = self.list_versions(agent)
        return versions[-1] if versions else None

    # pointers
    @abstractmethod
    def get_pointer(self, agent: str, target: str, alias: str = "live") -> Pointer | None: ...

    @abstractmethod
    def list_pointers(self, agent: str) -> list[Pointer]:
        """Every pointer of ``agent`` on every target, sorted by (target, alias)."""

    @abstractmethod
    def move_pointer(
        self, agent: str, target: str, alias: str, *, expected_revision: int | None, **fields: Any
    ) -> Pointer:
        """Compare-and-set: raise StoreConflict unless the stored revision equals ``expected_revision``
        (``None`` = the pointer must not exist yet). ``fields`` are Pointer fields to set
        (``POINTER_FIELDS``; others raise TypeError); the new revision is the old one + 1."""

    def update_pointer(
        self,
        agent: str,
        target: str,
        alias: str,
        change: Callable[[Pointer | None], dict[str, Any]],
        *,
        attempts: int = 100,
    ) -> Pointer:
        """Read-modify-write with retry: ``change(current)`` returns the fields to set; it is called
        again with the fresh pointer whenever another writer moved it in between."""
        for _ in range(attempts):
            current = self.get_pointer(agent, target, alias)
            fields = change(current)
            try:
                return self.move_pointer(
                    agent, target, alias, expected_revision=current.revision if current else None, **fields
                )
            except StoreConflict:
                continue
        raise StoreConflict(
            f"pointer {agent}/{target}/{alias}",
            f"still contended after {attempts} attempts",
            hint="retry the command; another deploy or rollback keeps moving this alias",
        )

    @abstractmethod
    def delete_agent(self, agent: str, target: str) -> None:
        """Forget the agent's pointers on ``target`` (versions and audit stay)."""

    # API keys
    @abstractmethod
    def put_key(self, key: APIKeyRecord) -> None:
        """Create a key record once; raise StoreConflict if the key id exists."""

    @abstractmethod
    def get_key(self, key_id: str) -> APIKeyRecord | None: ...

    @abstractmethod
    def list_keys(self, agent: str) -> list[APIKeyRecord]:
        """Keys of ``agent``, oldest first."""

    @abstractmethod
    def revoke_key(self, key_id: str, at: datetime) -> None:
        """Mark the key revoked (the first revocation time wins); raise errors.RecordNotFound if missing."""

    @abstractmethod
    def touch_keys(self, last_used: dict[str, datetime]) -> None:
        """Batch-record last use (the runtime flushes this periodically, never per request).
        Unknown key ids are ignored; a stored later time is never moved back."""

    # audit
    @abstractmethod
    def append_audit(self, record: AuditRecord) -> None: ...

    @abstractmethod
    def list_audit(self, agent: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """Newest first; ``agent`` None = every agent (and records with no agent)."""

    # rate-limit counters
    @abstractmethod
    def incr_counter(self, key: str, window_s: int, now: float | None = None, amount: int = 1) -> int:
        """Atomically add ``amount`` (1) to the counter of the current fixed window; return the new count.
        The window is ``floor(now / window_s)``; a counter expires by itself after its window."""

    # secrets at rest (envelope-encrypted; backends only ever see the sealed form)
    def put_secret(self, name: str, plaintext: str) -> None:
        """Seal ``plaintext`` with a fresh data key wrapped by the KEK and store it (overwrites)."""
        from agentdock.store.crypto import kek_from_env, seal

        if not _SECRET_NAME_RE.match(name):
            raise ValueError(f"invalid secret name {name!r}")
        self._write_secret(name, seal(plaintext.encode(), self.kek or kek_from_env(), aad=name.encode()))

    def get_secret(self, name: str) -> str | None:
        """The plaintext of a stored secret, or None when there is none."""
        from agentdock.store.crypto import kek_from_env, open_sealed

        sealed = self._read_secret(name)
        if sealed is None:
            return None
        return open_sealed(sealed, self.kek or kek_from_env(), aad=name.encode()).decode()

    @abstractmethod
    def _write_secret(self, name: str, sealed: str) -> None:
        """Store the sealed JSON document of a secret (upsert)."""

    @abstractmethod
    def _read_secret(self, name: str) -> str | None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
