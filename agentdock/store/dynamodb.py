"""``dynamodb://TABLE?region=REGION&endpoint_url=URL``: one DynamoDB table for all metadata.

Single-table design. Keys are strings; ``GSI1`` (``GSI1PK``/``GSI1SK``, projection ALL) serves
the three listings that are not per-partition; ``ttl`` (epoch seconds) is the table's TTL
attribute, set on counters only. Billing is on demand.

==============  =====================  ======================  ===========  ==================
item            PK                     SK                      GSI1PK       GSI1SK
==============  =====================  ======================  ===========  ==================
schema marker   ``META``               ``SCHEMA``
agent           ``AGENT#<name>``       ``AGENT``               ``AGENTS``   ``<name>``
version         ``AGENT#<name>``       ``V#<number:010d>``
pointer         ``AGENT#<name>``       ``PTR#<target>#<alias>``
API key         ``KEY#<key_id>``       ``KEY``                 ``KEYS#<agent>``  ``<created>#<id>``
audit record    ``AUDIT#<agent|->``    ``<ns clock>#<rand>``   ``AUDIT``    same as SK
counter         ``CTR#<key>#<window>`` ``CTR``                 (``ttl`` = window end + 1 h)
secret          ``SECRET#<name>``      ``SECRET``              (``sealed``: the envelope only)
==============  =====================  ======================  ===========  ==================

Writes are conditional: a version is ``PutItem`` with ``attribute_not_exists(PK)`` (immutable;
its ``status`` attribute is the one thing ``set_version_status`` updates); numbers come from an
atomic ``ADD next_version :1`` on the agent item; a pointer moves by ``UpdateItem`` with
``revision = :expected`` (or ``attribute_not_exists`` for the first move); counters are
``ADD n :1``. Reads that must see the latest write use ``ConsistentRead``; the GSI listings
(agents, keys of an agent, all audit) are eventually consistent, as GSIs are.

The endpoint comes from ``endpoint_url=``, else AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL;
the region from ``region=``, else the usual AWS variables.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from agentdock.errors import RecordNotFound, StoreConflict, StoreError
from agentdock.settings import ENV_AWS_ENDPOINT_URL, ENV_AWS_ENDPOINT_URL_DYNAMODB
from agentdock.store import migrations
from agentdock.store.base import (
    AgentRecord,
    Pointer,
    VersionRecord,
    check_pointer_fields,
    check_status,
    utcnow,
)
from agentdock.store.dynamo_items import Client, DynamoIO, ts
from agentdock.store.dynamo_records import DynamoRecords

_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def parse_url(url: str) -> tuple[str, str | None, str | None]:
    """(table, region, endpoint_url) from a dynamodb:// URL."""
    parts = urlsplit(url)
    table = parts.netloc or parts.path.lstrip("/")
    if not _TABLE_RE.match(table):
        raise StoreError(
            url,
            f"invalid DynamoDB table name {table!r}",
            hint="use dynamodb://agentdock-metadata?region=us-east-1",
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    endpoint = (
        query.get("endpoint_url")
        or os.environ.get(ENV_AWS_ENDPOINT_URL_DYNAMODB)
        or os.environ.get(ENV_AWS_ENDPOINT_URL)
    )
    return table, query.get("region"), endpoint


def _agent_pk(agent: str) -> str:
    return f"AGENT#{agent}"


class DynamoDBStore(DynamoRecords):
    def __init__(self, url: str, *, client: Client | None = None) -> None:
        self.url = url
        self.table, self.region, self.endpoint_url = parse_url(url)
        self.io = DynamoIO(self.table, url, client=client, region=self.region, endpoint_url=self.endpoint_url)

    # --- lifecycle ------------------------------------------------------------------------
    def init(self) -> None:
        self.io.create_table()
        self.io.put(
            {"PK": "META", "SK": "SCHEMA", "version": migrations.LATEST, "updated_at": ts(utcnow())},
            ready=False,
        )
        self.io.checked = False

    # --- agents and versions ----------------------------------------------------------------
    def _agent_upsert(self, agent: str, *, allocate: bool) -> dict[str, Any]:
        expr = "SET created_at = if_not_exists(created_at, :now), GSI1PK = :agents, GSI1SK = :name"
        values: dict[str, Any] = {":now": ts(utcnow()), ":agents": "AGENTS", ":name": agent}
        if allocate:
            expr += " ADD next_version :one"
            values[":one"] = 1
        return self.io.update({"PK": _agent_pk(agent), "SK": "AGENT"}, expr, values, returns="ALL_NEW") or {}

    def ensure_agent(self, name: str) -> AgentRecord:
        item = self._agent_upsert(name, allocate=False)
        return AgentRecord(name=name, created_at=datetime.fromisoformat(item["created_at"]))

    def list_agents(self) -> list[AgentRecord]:
        items = self.io.query_index("AGENTS")
        return [AgentRecord(i["GSI1SK"], datetime.fromisoformat(i["created_at"])) for i in items]

    def _version_item(self, record: VersionRecord) -> dict[str, Any]:
        return {
            "PK": _agent_pk(record.agent),
            "SK": f"V#{record.number:010d}",
            "agent": record.agent,
            "number": record.number,
            "content_hash": record.content_hash,
            "target": record.target,
            "image": record.image,
            "spec": json.dumps(record.spec, separators=(",", ":"), default=str),
            "created_by": record.created_by,
            "created_at": ts(record.created_at),
            "label": record.label,
            "status": record.status,
        }

    def _version(self, item: dict[str, Any]) -> VersionRecord:
        return VersionRecord(
            agent=item["agent"],
            number=int(item["number"]),
            content_hash=item["content_hash"],
            target=item["target"],
            image=item.get("image"),
            spec=json.loads(item["spec"]),
            created_by=item["created_by"],
            created_at=datetime.fromisoformat(item["created_at"]),
            label=item.get("label"),
            status=item.get("status", "registered"),
        )

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
        for _ in range(100):
            number = int(self._agent_upsert(agent, allocate=True)["next_version"])
            record = VersionRecord(
                agent, number, content_hash, target, image, spec, created_by, utcnow(), label
            )
            if self.io.put(self._version_item(record), condition="attribute_not_exists(PK)"):
                return record
        raise StoreConflict(f"{agent}/versions", "could not allocate a version number after 100 attempts")

    def put_version(self, record: VersionRecord) -> VersionRecord:
        check_status(record.status)
        self._agent_upsert(record.agent, allocate=False)
        if not self.io.put(self._version_item(record), condition="attribute_not_exists(PK)"):
            raise StoreConflict(f"{record.agent}/v{record.number}", "version exists; versions are immutable")
        # Keep the allocator ahead of explicitly written numbers (a failed condition just means it is).
        self.io.update(
            {"PK": _agent_pk(record.agent), "SK": "AGENT"},
            "SET next_version = :n",
            {":n": record.number},
            condition="attribute_not_exists(next_version) OR next_version < :n",
        )
        return record

    def get_version(self, agent: str, number: int) -> VersionRecord:
        item = self.io.get({"PK": _agent_pk(agent), "SK": f"V#{number:010d}"})
        if item is None:
            raise RecordNotFound(f"{agent}/v{number}", "no such version")
        return self._version(item)

    def list_versions(self, agent: str) -> list[VersionRecord]:
        return [self._version(i) for i in self.io.query_prefix(_agent_pk(agent), "V#")]

    def set_version_status(self, agent: str, number: int, status: str) -> None:
        check_status(status)
        ok = self.io.update(
            {"PK": _agent_pk(agent), "SK": f"V#{number:010d}"},
            "SET #st = :s, status_updated_at = :now",
            {":s": status, ":now": ts(utcnow())},
            names={"#st": "status"},
            condition="attribute_exists(PK)",
        )
        if ok is None:
            raise RecordNotFound(f"{agent}/v{number}", "no such version")

    # --- pointers -------------------------------------------------------------------------
    def _pointer(self, item: dict[str, Any]) -> Pointer:
        return Pointer(
            agent=item["agent"],
            target=item["target"],
            alias=item["alias"],
            live_version=item.get("live_version"),
            previous_version=item.get("previous_version"),
            revision=int(item["revision"]),
            canary_version=item.get("canary_version"),
            canary_weight=float(item.get("canary_weight") or 0.0),
            status=item.get("status", "live"),
            url=item.get("url"),
            updated_at=datetime.fromisoformat(item["updated_at"]),
            details=json.loads(item.get("details") or "{}"),
            created_at=datetime.fromisoformat(item["created_at"]),
        )

    def get_pointer(self, agent: str, target: str, alias: str = "live") -> Pointer | None:
        item = self.io.get({"PK": _agent_pk(agent), "SK": f"PTR#{target}#{alias}"})
        return self._pointer(item) if item else None

    def list_pointers(self, agent: str) -> list[Pointer]:
        return [self._pointer(i) for i in self.io.query_prefix(_agent_pk(agent), "PTR#")]

    def move_pointer(
        self, agent: str, target: str, alias: str, *, expected_revision: int | None, **fields: Any
    ) -> Pointer:
        check_pointer_fields(fields)
        where = f"pointer {agent}/{target}/{alias}"
        key = {"PK": _agent_pk(agent), "SK": f"PTR#{target}#{alias}"}
        now = ts(utcnow())
        values = {k: (json.dumps(v or {}) if k == "details" else v) for k, v in fields.items()}
        if "canary_weight" in values:
            values["canary_weight"] = Decimal(str(values["canary_weight"] or 0.0))
        if expected_revision is None:
            self._agent_upsert(agent, allocate=False)
            item = {
                "live_version": None,
                "previous_version": None,
                "canary_version": None,
                "canary_weight": Decimal("0"),
                "status": "live",
                "url": None,
                "details": "{}",
            } | values
            item |= key | {
                "agent": agent,
                "target": target,
                "alias": alias,
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            }
            if not self.io.put(item, condition="attribute_not_exists(PK)"):
                raise StoreConflict(where, "expected no pointer, found one")
            return self._pointer(item)
        names = {f"#f{i}": k for i, k in enumerate(values)}
        sets = [f"#f{i} = :f{i}" for i, v in enumerate(values.values()) if v is not None]
        sets += ["revision = revision + :one", "updated_at = :now"]
        removes = [f"#f{i}" for i, v in enumerate(values.values()) if v is None]
        expr = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        expr_values = {f":f{i}": v for i, v in enumerate(values.values()) if v is not None}
        expr_values |= {":one": 1, ":now": now, ":expected": expected_revision}
        new = self.io.update(
            key, expr, expr_values, names=names or None, condition="revision = :expected", returns="ALL_NEW"
        )
        if new is None:
            current = self.io.get(key)
            found = int(current["revision"]) if current else None
            raise StoreConflict(where, f"expected revision {expected_revision}, found {found}")
        return self._pointer(new)

    def delete_agent(self, agent: str, target: str) -> None:
        for item in self.io.query_prefix(_agent_pk(agent), f"PTR#{target}#"):
            self.io.delete({"PK": item["PK"], "SK": item["SK"]})

    def close(self) -> None:
        self.io.close()
