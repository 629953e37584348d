"""The platform half of rollback / promote on Knative (``release.Platform``), and ``--keep N``.

A rollback or promote is one traffic patch: ``live`` goes to the recorded revision of the chosen
version (no new revision, no rebuild); a canary's ``candidate`` tag is dropped. The undo puts the
previous traffic block back (used when the store's compare-and-set loses a race).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentdock.targets.knative import status as kstatus
from agentdock.targets.knative.manifest import Traffic, traffic_from
from agentdock.targets.knative.rollout import set_traffic, status_traffic
from agentdock.targets.release import Routed

from agentdock.errors import DeployError
from agentdock.store.base import Pointer

if TYPE_CHECKING:
    from agentdock.targets.knative.target import KnativeTarget

ROUTE_TIMEOUT_S = 60.0


class KnativeTraffic:
    handle_key = "revision"

    def __init__(self, target: KnativeTarget) -> None:
        self.target = target

    def current(self, agent: str) -> Pointer:
        pointer = self.target.release().pointer(agent)
        if pointer is None or not pointer.details.get("service"):
            raise DeployError(
                agent, "no Knative deployment on record", hint="agentdock deploy --target knative"
            )
        return pointer

    def locate(self, pointer: Pointer, version: int) -> str:
        d = pointer.details
        revision = (d.get("revisions") or {}).get(str(version))
        if revision is None:
            raise DeployError(
                f"version {version}",
                f"version {version} was never deployed to Knative here",
                hint=f"deployed: {', '.join(sorted(d.get('revisions') or {}, key=int)) or 'none'}",
            )
        return str(revision)

    def route(self, pointer: Pointer, version: int, handle: str) -> Routed:
        d = pointer.details
        kube = self.target.client(d["namespace"])
        live = kube.get_service(d["service"])
        if live is None:
            raise DeployError(
                f"service {d['namespace']}/{d['service']}",
                "the Knative Service no longer exists",
                hint="deploy again (agentdock deploy --target knative)",
            )
        known = {r["metadata"]["name"] for r in kube.list_revisions(d["service"])}
        if handle not in known:
            raise DeployError(
                f"revision {handle}",
                f"revision {handle} is gone from the cluster (deleted, e.g. by --keep)",
                hint="deploy that version again, or roll back to one that `agentdock status` lists",
            )
        before = list(live["spec"].get("traffic") or [])
        now = traffic_from(before, d["service"])
        after = Traffic(live=version, tagged=(*now.tagged, version))
        service = set_traffic(kube, d["service"], after.entries(d["service"]), ROUTE_TIMEOUT_S)

        def undo() -> None:
            set_traffic(kube, d["service"], before, ROUTE_TIMEOUT_S)

        urls = {t.get("tag"): t.get("url") for t in status_traffic(service)}
        return Routed(
            undo,
            details={"revision": handle},
            shown={"url": (service.get("status") or {}).get("url"), "live_url": urls.get("live")},
        )


def collect(target: KnativeTarget, agent: str, keep: int) -> list[str]:
    """``--keep N``: drop the tags of, then delete, every revision of this agent but the N newest
    and those live, previous or in a canary. Audited; returns the deleted revision names."""
    release = target.release()
    pointer = release.pointer(agent)
    if pointer is None:
        return []
    d = pointer.details
    kube = target.client(d["namespace"])
    found = kube.list_revisions(d["service"])
    by_version: dict[int, str] = {}
    for rev in found:
        name = rev["metadata"]["name"]
        number = kstatus.revision_version(name, d["service"])
        if number is not None:
            by_version[number] = name
    pinned = (pointer.live_version, pointer.previous_version, pointer.canary_version)
    doomed = kstatus.to_collect(by_version, keep=keep, pinned=pinned)
    if not doomed:
        return []
    live = kube.get_service(d["service"])
    now = traffic_from((live or {}).get("spec", {}).get("traffic") or [], d["service"])
    kept_tags = tuple(v for v in now.tagged if v not in doomed)
    set_traffic(
        kube,
        d["service"],
        Traffic(now.live, kept_tags, now.candidate, now.percent).entries(d["service"]),
        ROUTE_TIMEOUT_S,
    )
    names = [by_version[v] for v in doomed]
    for name in names:
        kube.delete_revision(name)

    def forget(current: Pointer | None) -> dict[str, Any]:
        details = dict((current.details if current else None) or d)
        details["revisions"] = {
            k: v for k, v in (details.get("revisions") or {}).items() if int(k) not in doomed
        }
        return {"details": details}

    target.store.update_pointer(agent, "knative", release.alias, forget)
    release.audit("gc", agent, {"kept": keep, "deleted_revisions": names})
    return names
