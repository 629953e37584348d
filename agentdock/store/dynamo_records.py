"""API keys, audit, counters and secrets in the DynamoDB single table (see ``dynamodb`` for the
key design). ``DynamoDBStore`` adds agents, versions and pointers on top."""

from __future__ import annotations

import json
import math
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from agentdock.errors import RecordNotFound, StoreConflict
from agentdock.store.base import COUNTER_GRACE_S, APIKeyRecord, AuditRecord, MetadataStore
from agentdock.store.dynamo_items import DynamoIO, ts


class DynamoRecords(MetadataStore):
    io: DynamoIO

    # --- API keys -------------------------------------------------------------------------
    def _key(self, item: dict[str, Any]) -> APIKeyRecord:
        def when(name: str) -> datetime | None:
            return datetime.fromisoformat(item[name]) if item.get(name) else None

        return APIKeyRecord(
            key_id=item["key_id"],
            agent=item["agent"],
            role=item["role"],
            key_hash=item["key_hash"],
            created_at=datetime.fromisoformat(item["created_at"]),
            expires_at=when("expires_at"),
            revoked_at=when("revoked_at"),
            last_used_at=when("last_used_at"),
        )

    def put_key(self, key: APIKeyRecord) -> None:
        item = {
            "PK": f"KEY#{key.key_id}",
            "SK": "KEY",
            "GSI1PK": f"KEYS#{key.agent}",
            "GSI1SK": f"{ts(key.created_at)}#{key.key_id}",
            "key_id": key.key_id,
            "agent": key.agent,
            "role": key.role,
            "key_hash": key.key_hash,
            "created_at": ts(key.created_at),
            "expires_at": ts(key.expires_at),
            "revoked_at": ts(key.revoked_at),
            "last_used_at": ts(key.last_used_at),
        }
        if not self.io.put(item, condition="attribute_not_exists(PK)"):
            raise StoreConflict(f"key {key.key_id}", "key id exists")

    def get_key(self, key_id: str) -> APIKeyRecord | None:
        item = self.io.get({"PK": f"KEY#{key_id}", "SK": "KEY"})
        return self._key(item) if item else None

    def list_keys(self, agent: str) -> list[APIKeyRecord]:
        return [self._key(i) for i in self.io.query_index(f"KEYS#{agent}")]

    def revoke_key(self, key_id: str, at: datetime) -> None:
        ok = self.io.update(
            {"PK": f"KEY#{key_id}", "SK": "KEY"},
            "SET revoked_at = :at",
            {":at": ts(at)},
            condition="attribute_exists(PK) AND attribute_not_exists(revoked_at)",
        )
        if ok is None and self.get_key(key_id) is None:
            raise RecordNotFound(f"key {key_id}", "no such API key")

    def touch_keys(self, last_used: dict[str, datetime]) -> None:
        for key_id, at in sorted(last_used.items()):
            self.io.update(
                {"PK": f"KEY#{key_id}", "SK": "KEY"},
                "SET last_used_at = :at",
                {":at": ts(at)},
                condition="attribute_exists(PK) AND (attribute_not_exists(last_used_at) OR last_used_at < :at)",
            )

    # --- audit ----------------------------------------------------------------------------
    def append_audit(self, record: AuditRecord) -> None:
        sk = f"{time.time_ns():020d}#{secrets.token_hex(4)}"
        self.io.put(
            {
                "PK": f"AUDIT#{record.agent or '-'}",
                "SK": sk,
                "GSI1PK": "AUDIT",
                "GSI1SK": sk,
                "actor": record.actor,
                "action": record.action,
                "agent": record.agent,
                "target": record.target,
                "details": json.dumps(record.details, default=str),
                "at": ts(record.at),
            }
        )

    def list_audit(self, agent: str | None = None, limit: int = 100) -> list[AuditRecord]:
        if limit <= 0:
            return []
        if agent is None:
            items = self.io.query_index("AUDIT", newest_first=True, limit=limit)
        else:
            items = self.io.query_prefix(f"AUDIT#{agent}", "", newest_first=True, limit=limit)
        return [
            AuditRecord(
                i["actor"],
                i["action"],
                i.get("agent"),
                i.get("target"),
                json.loads(i["details"]),
                datetime.fromisoformat(i["at"]),
            )
            for i in items
        ]

    # --- counters -------------------------------------------------------------------------
    def incr_counter(self, key: str, window_s: int, now: float | None = None, amount: int = 1) -> int:
        now = time.time() if now is None else now
        start = math.floor(now / window_s) * window_s
        item = self.io.update(
            {"PK": f"CTR#{key}#{start}", "SK": "CTR"},
            "ADD n :one SET #ttl = if_not_exists(#ttl, :ttl)",
            {":one": int(amount), ":ttl": int(start + window_s + COUNTER_GRACE_S)},
            names={"#ttl": "ttl"},
            returns="UPDATED_NEW",
        )
        return int((item or {})["n"])

    # --- secrets --------------------------------------------------------------------------
    def _write_secret(self, name: str, sealed: str) -> None:
        self.io.put(
            {"PK": f"SECRET#{name}", "SK": "SECRET", "sealed": sealed, "updated_at": ts(datetime.now(UTC))}
        )

    def _read_secret(self, name: str) -> str | None:
        item = self.io.get({"PK": f"SECRET#{name}", "SK": "SECRET"})
        return item["sealed"] if item else None
