"""The metadata-store contract: agents, immutable versions, pointers, API keys, audit, counters.

Backends (``sqlite``, ``dynamodb``, ``postgres``, ``memory``) implement this one class and
are chosen by URL through ``agentdock.store.open_store``. Versions are written once
(conditional create); pointers move only by compare-and-set.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    label: str | None = None
    status: str = "registered"  # registered | live | failed | retired (the one mutable field)


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


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    action: str
    agent: str | None
    target: str | None
    details: dict[str, Any]
    at: datetime


class MetadataStore(ABC):
    url: str

    @abstractmethod
    def init(self) -> None:
        """Create tables/schema; idempotent."""

    # agents and versions
    @abstractmethod
    def ensure_agent(self, name: str) -> AgentRecord: ...

    @abstractmethod
    def list_agents(self) -> list[AgentRecord]: ...

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
        """Allocate the next number atomically and write the version once."""

    @abstractmethod
    def get_version(self, agent: str, number: int) -> VersionRecord: ...

    @abstractmethod
    def list_versions(self, agent: str) -> list[VersionRecord]: ...

    @abstractmethod
    def set_version_status(self, agent: str, number: int, status: str) -> None: ...

    # pointers
    @abstractmethod
    def get_pointer(self, agent: str, target: str, alias: str = "live") -> Pointer | None: ...

    @abstractmethod
    def move_pointer(
        self, agent: str, target: str, alias: str, *, expected_revision: int | None, **fields: Any
    ) -> Pointer:
        """Compare-and-set: raise StoreConflict unless the stored revision equals ``expected_revision``
        (``None`` = the pointer must not exist yet). ``fields`` are Pointer fields to set."""

    @abstractmethod
    def delete_agent(self, agent: str, target: str) -> None:
        """Forget the agent's pointers on ``target`` (versions and audit stay)."""

    # API keys
    @abstractmethod
    def put_key(self, key: APIKeyRecord) -> None: ...

    @abstractmethod
    def get_key(self, key_id: str) -> APIKeyRecord | None: ...

    @abstractmethod
    def list_keys(self, agent: str) -> list[APIKeyRecord]: ...

    @abstractmethod
    def revoke_key(self, key_id: str, at: datetime) -> None: ...

    @abstractmethod
    def touch_keys(self, last_used: dict[str, datetime]) -> None:
        """Batch-record last use (the runtime flushes this periodically, never per request)."""

    # audit
    @abstractmethod
    def append_audit(self, record: AuditRecord) -> None: ...

    @abstractmethod
    def list_audit(self, agent: str | None = None, limit: int = 100) -> list[AuditRecord]: ...

    # rate-limit counters
    @abstractmethod
    def incr_counter(self, key: str, window_s: int, now: float | None = None) -> int:
        """Atomically add 1 to the counter of the current fixed window; return the new count."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
