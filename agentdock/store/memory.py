"""``memory://``: the in-process store for tests and fakes. Thread-safe (one lock), same contract
as the real backends, nothing persisted. Each ``open_store("memory://")`` is a fresh store."""

from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from agentdock.errors import RecordNotFound, StoreConflict
from agentdock.store.base import (
    COUNTER_GRACE_S,
    AgentRecord,
    APIKeyRecord,
    AuditRecord,
    MetadataStore,
    Pointer,
    VersionRecord,
    check_pointer_fields,
    check_status,
    utcnow,
)


class MemoryStore(MetadataStore):
    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._lock = threading.RLock()
        self._agents: dict[str, AgentRecord] = {}
        self._versions: dict[str, dict[int, VersionRecord]] = {}
        self._status: dict[tuple[str, int], str] = {}
        self._pointers: dict[tuple[str, str, str], Pointer] = {}
        self._keys: dict[str, APIKeyRecord] = {}
        self._audit: list[AuditRecord] = []
        self._counters: dict[str, tuple[int, float]] = {}  # key -> (count, expires_at epoch)
        self._secrets: dict[str, str] = {}

    def init(self) -> None:
        return None

    # agents and versions
    def ensure_agent(self, name: str) -> AgentRecord:
        with self._lock:
            return self._agents.setdefault(name, AgentRecord(name=name, created_at=utcnow()))

    def list_agents(self) -> list[AgentRecord]:
        with self._lock:
            return sorted(self._agents.values(), key=lambda a: a.name)

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
        with self._lock:
            number = max(self._versions.get(agent, {}), default=0) + 1
            record = VersionRecord(
                agent=agent,
                number=number,
                content_hash=content_hash,
                target=target,
                image=image,
                spec=copy.deepcopy(spec),
                created_by=created_by,
                created_at=utcnow(),
                label=label,
            )
            return self.put_version(record)

    def put_version(self, record: VersionRecord) -> VersionRecord:
        with self._lock:
            self.ensure_agent(record.agent)
            versions = self._versions.setdefault(record.agent, {})
            if record.number in versions:
                raise StoreConflict(
                    f"{record.agent}/v{record.number}", "version exists; versions are immutable"
                )
            versions[record.number] = replace(record, spec=copy.deepcopy(record.spec), status="registered")
            self._status[(record.agent, record.number)] = record.status
            return self._with_status(versions[record.number])

    def _with_status(self, record: VersionRecord) -> VersionRecord:
        return replace(
            record, spec=copy.deepcopy(record.spec), status=self._status[(record.agent, record.number)]
        )

    def get_version(self, agent: str, number: int) -> VersionRecord:
        with self._lock:
            record = self._versions.get(agent, {}).get(number)
            if record is None:
                raise RecordNotFound(f"{agent}/v{number}", "no such version")
            return self._with_status(record)

    def list_versions(self, agent: str) -> list[VersionRecord]:
        with self._lock:
            return [self._with_status(v) for _, v in sorted(self._versions.get(agent, {}).items())]

    def set_version_status(self, agent: str, number: int, status: str) -> None:
        check_status(status)
        with self._lock:
            if (agent, number) not in self._status:
                raise RecordNotFound(f"{agent}/v{number}", "no such version")
            self._status[(agent, number)] = status

    # pointers
    def get_pointer(self, agent: str, target: str, alias: str = "live") -> Pointer | None:
        with self._lock:
            pointer = self._pointers.get((agent, target, alias))
            return replace(pointer, details=copy.deepcopy(pointer.details)) if pointer else None

    def list_pointers(self, agent: str) -> list[Pointer]:
        with self._lock:
            keys = sorted(k for k in self._pointers if k[0] == agent)
            return [p for p in (self.get_pointer(*k) for k in keys) if p is not None]

    def move_pointer(
        self, agent: str, target: str, alias: str, *, expected_revision: int | None, **fields: Any
    ) -> Pointer:
        check_pointer_fields(fields)
        if "details" in fields:
            fields["details"] = copy.deepcopy(fields["details"] or {})
        with self._lock:
            current = self._pointers.get((agent, target, alias))
            found = current.revision if current else None
            if found != expected_revision:
                raise StoreConflict(
                    f"pointer {agent}/{target}/{alias}",
                    f"expected revision {expected_revision}, found {found}",
                )
            now = utcnow()
            if current is None:
                self.ensure_agent(agent)
                base = Pointer(agent, target, alias, None, None, revision=0, created_at=now)
            else:
                base = current
            moved = replace(base, **fields, revision=base.revision + 1, updated_at=now)
            self._pointers[(agent, target, alias)] = moved
            return replace(moved, details=copy.deepcopy(moved.details))

    def delete_agent(self, agent: str, target: str) -> None:
        with self._lock:
            for key in [k for k in self._pointers if k[0] == agent and k[1] == target]:
                del self._pointers[key]

    # API keys
    def put_key(self, key: APIKeyRecord) -> None:
        with self._lock:
            if key.key_id in self._keys:
                raise StoreConflict(f"key {key.key_id}", "key id exists")
            self._keys[key.key_id] = key

    def get_key(self, key_id: str) -> APIKeyRecord | None:
        with self._lock:
            return self._keys.get(key_id)

    def list_keys(self, agent: str) -> list[APIKeyRecord]:
        with self._lock:
            return sorted(
                (k for k in self._keys.values() if k.agent == agent), key=lambda k: (k.created_at, k.key_id)
            )

    def revoke_key(self, key_id: str, at: datetime) -> None:
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                raise RecordNotFound(f"key {key_id}", "no such API key")
            if key.revoked_at is None:
                self._keys[key_id] = replace(key, revoked_at=at)

    def touch_keys(self, last_used: dict[str, datetime]) -> None:
        with self._lock:
            for key_id, at in last_used.items():
                key = self._keys.get(key_id)
                if key is not None and (key.last_used_at is None or key.last_used_at < at):
                    self._keys[key_id] = replace(key, last_used_at=at)

    # audit
    def append_audit(self, record: AuditRecord) -> None:
        with self._lock:
            self._audit.append(replace(record, details=copy.deepcopy(record.details)))

    def list_audit(self, agent: str | None = None, limit: int = 100) -> list[AuditRecord]:
        with self._lock:
            rows = [r for r in reversed(self._audit) if agent is None or r.agent == agent]
            return rows[: max(limit, 0)]

    # counters
    def incr_counter(self, key: str, window_s: int, now: float | None = None, amount: int = 1) -> int:
        now = time.time() if now is None else now
        start = math.floor(now / window_s) * window_s
        with self._lock:
            for stale in [k for k, (_, exp) in self._counters.items() if exp + COUNTER_GRACE_S <= now]:
                del self._counters[stale]
            slot = f"{key}#{start}"
            count = self._counters.get(slot, (0, 0.0))[0] + amount
            self._counters[slot] = (count, start + window_s)
            return count

    # secrets
    def _write_secret(self, name: str, sealed: str) -> None:
        with self._lock:
            self._secrets[name] = sealed

    def _read_secret(self, name: str) -> str | None:
        with self._lock:
            return self._secrets.get(name)
