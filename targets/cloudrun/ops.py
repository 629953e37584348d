"""Cloud Run's platform half of rollback/promote (a traffic update to a recorded revision: no
rebuild, no new revision), status (revisions, traffic, URL, conditions, latest ready revision) and
destroy. The release bookkeeping (choose, compare-and-set, audit) is ``targets.release``."""

from __future__ import annotations

from typing import Any

from agentdock.targets.base import Deployment, Status
from agentdock.targets.cloudrun.client import CloudRunClient
from agentdock.targets.cloudrun.model import CloudRunModel, Split, revision_name, traffic, version_of
from agentdock.targets.release import Release, Routed, move_traffic

from agentdock.errors import DeployError
from agentdock.store.base import Pointer

READY = "CONDITION_SUCCEEDED"


def tag_url(service: dict[str, Any], tag: str) -> str | None:
    """The URL Cloud Run gave traffic tag ``tag`` (``https://TAG---SERVICE-HASH.a.run.app``)."""
    return next((s.get("uri") for s in service.get("trafficStatuses") or [] if s.get("tag") == tag), None)


def revision_ready(revision: dict[str, Any]) -> bool | None:
    """True/False from the revision's ``Ready`` condition; None while it is still being decided."""
    ready = next((c for c in revision.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is None or ready.get("state") in (None, "CONDITION_PENDING", "CONDITION_RECONCILING"):
        return None
    return bool(ready.get("state") == READY)


def pointer_details(model: CloudRunModel, pointer: Pointer | None, version: int) -> dict[str, Any]:
    """What rollback/status/destroy need later without the Dockfile: where the service is and which
    revision each version is."""
    revisions = dict((pointer.details.get("revisions") or {}) if pointer else {})
    revisions[str(version)] = model.revision(version)
    return {
        "project": model.project,
        "region": model.region,
        "service": model.service,
        "name": model.name,
        "revisions": revisions,
        "public": model.public,
    }


def live_pointer(release: Release, agent: str) -> Pointer:
    pointer = release.pointer(agent)
    if pointer is None or not pointer.details.get("name"):
        raise DeployError(
            agent, "no Cloud Run deployment on record", hint=f"agentdock deploy --target cloudrun  ({agent})"
        )
    return pointer


class CloudRunTraffic:
    """The ``release.Platform`` of Cloud Run: traffic is the service's ``traffic`` list."""

    handle_key = "revision"

    def __init__(self, release: Release, client: CloudRunClient) -> None:
        self.release = release
        self.client = client

    def current(self, agent: str) -> Pointer:
        return live_pointer(self.release, agent)

    def locate(self, pointer: Pointer, version: int) -> str:
        """The recorded revision of ``version``; it must still exist and be Ready on Cloud Run."""
        d = pointer.details
        handle = (d.get("revisions") or {}).get(str(version)) or revision_name(d["service"], version)
        found = self.client.get_revision(f"{d['name']}/revisions/{handle}")
        if found is None or revision_ready(found) is not True:
            what = "no longer exists" if found is None else "is not Ready"
            raise DeployError(
                f"version {version}",
                f"revision {handle} {what} on Cloud Run",
                hint="deploy that content again (it makes a new revision)",
            )
        return handle

    def route(self, pointer: Pointer, version: int, handle: str) -> Routed:
        d = pointer.details
        live = self.client.get_service(d["name"])
        if live is None:
            raise DeployError(
                d["name"], "the Cloud Run service is gone", hint="agentdock deploy --target cloudrun"
            )
        before = live.get("traffic") or []
        old = pointer.live_version
        split = Split(version, None, 0, (old,) if old is not None and old != version else ())
        after = self.client.update_service(
            d["name"],
            {"traffic": traffic(d["service"], split), "etag": live.get("etag", "")},
            fields=("traffic",),
        )

        def undo() -> None:
            self.client.update_service(d["name"], {"traffic": before}, fields=("traffic",))

        return Routed(undo, details={"live_revision": handle}, shown={"url": after.get("uri")})


def move(
    release: Release, client: CloudRunClient, agent: str, *, version: int | None = None, promote: bool = False
) -> Deployment:
    return move_traffic(release, CloudRunTraffic(release, client), agent, version=version, promote=promote)


def status(release: Release, client: CloudRunClient, agent: str) -> Status:
    history = release.history(agent)
    pointer = release.pointer(agent)
    if pointer is None or not pointer.details.get("name"):
        return Status(agent, release.target, None, None, None, {"deployed": False}, history)
    d = pointer.details
    service = client.get_service(d["name"])
    if service is None:
        details = {"deployed": False, "service": d["name"], "message": "the service no longer exists"}
        return Status(agent, release.target, pointer.live_version, pointer.url, False, details, history)
    revisions = [
        {
            "revision": r["name"].rsplit("/", 1)[-1],
            "version": version_of(r["name"].rsplit("/", 1)[-1]),
            "ready": revision_ready(r),
            "created": r.get("createTime"),
        }
        for r in client.list_revisions(d["name"])
    ]
    # the same shape as the Knative target's status (the CLI prints both alike)
    split = [
        {
            "revisionName": s.get("revision"),
            "tag": s.get("tag"),
            "percent": s.get("percent", 0),
            "url": s.get("uri"),
        }
        for s in service.get("trafficStatuses") or []
    ]
    terminal = service.get("terminalCondition") or {}
    live_revision = next((t["revisionName"] for t in split if t.get("tag") == "live"), None)
    details = {
        "deployed": True,
        "service": d["name"],
        "live_revision": live_revision,
        "latest_ready_revision": (service.get("latestReadyRevision") or "").rsplit("/", 1)[-1] or None,
        "traffic": split,
        "revisions": sorted(revisions, key=lambda r: r["version"] or 0),
        "conditions": [terminal, *(service.get("conditions") or [])],
        "canary_version": pointer.canary_version,
        "canary_percent": round(pointer.canary_weight * 100) if pointer.canary_version else 0,
        "public": client.is_public(d["name"]),
        "last_release": release.last_release(agent),
    }
    healthy = terminal.get("state") == READY
    return Status(agent, release.target, pointer.live_version, service.get("uri"), healthy, details, history)


def destroy(release: Release, client: CloudRunClient, agent: str) -> None:
    """Delete the service (its revisions go with it); idempotent. Images stay in the registry."""
    pointer = release.pointer(agent)
    if pointer is None or not pointer.details.get("name"):
        return
    deleted = client.delete_service(pointer.details["name"])
    release.store.delete_agent(agent, release.target)
    release.audit("destroy", agent, {"service": pointer.details["name"], "deleted": deleted})
