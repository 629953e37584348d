"""Read a Knative Service back (``status --json``) and choose which old revisions ``--keep N`` deletes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agentdock.targets.knative.client import KnativeClient


def _conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: c[k] for k in ("type", "status", "reason", "message") if k in c}
        for c in (obj.get("status") or {}).get("conditions") or []
    ]


def revision_version(name: str, service: str) -> int | None:
    tail = name[len(service) + 2 :] if name.startswith(service + "-v") else ""
    return int(tail) if tail.isdigit() else None


def read(client: KnativeClient, service: str) -> dict[str, Any] | None:
    """The Service as status shows it (None when it does not exist): URL, conditions, traffic with
    tag URLs, and every revision with its version and Ready condition."""
    svc = client.get_service(service)
    if svc is None:
        return None
    status = svc.get("status") or {}
    revisions = []
    for rev in sorted(client.list_revisions(service), key=lambda r: r["metadata"]["name"]):
        name = rev["metadata"]["name"]
        ready = next((c for c in _conditions(rev) if c["type"] == "Ready"), {})
        revisions.append(
            {
                "name": name,
                "version": revision_version(name, service),
                "ready": ready.get("status"),
                "reason": ready.get("reason"),
                "message": ready.get("message"),
            }
        )
    revisions.sort(key=lambda r: (r["version"] is None, r["version"] or 0, r["name"]))
    return {
        "namespace": client.namespace,
        "service": service,
        "url": status.get("url"),
        "conditions": _conditions(svc),
        "latest_created": status.get("latestCreatedRevisionName"),
        "latest_ready": status.get("latestReadyRevisionName"),
        "traffic": [
            {k: t.get(k) for k in ("revisionName", "tag", "percent", "url")}
            for t in status.get("traffic") or []
        ],
        "spec_traffic": [
            {k: t.get(k) for k in ("revisionName", "tag", "percent")}
            for t in svc["spec"].get("traffic") or []
        ],
        "revisions": revisions,
    }


def to_collect(versions: Iterable[int], *, keep: int, pinned: Iterable[int]) -> list[int]:
    """Versions whose revisions ``--keep N`` deletes: all but the ``keep`` newest and the ``pinned``
    ones (live, previous, canary: a rollback target is never collected)."""
    ordered = sorted(set(versions))
    kept = set(ordered[-keep:] if keep > 0 else []) | {v for v in pinned if v is not None}
    return [v for v in ordered if v not in kept]
