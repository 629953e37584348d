"""The release core: the bookkeeping every target shares, written once.

A target has two halves. The **platform half** knows its platform: how to publish a version
(an image, a Lambda version, a Knative revision), how to move traffic, how to read it back. The
**release half** is the same everywhere and lives here, in ``Release``:

* ``register``     an immutable store version (or the reuse of one with the same content);
* ``choose``       the version a rollback/promote moves to; unknown and failed versions are refused,
                   a rollback while a canary runs abandons the canary;
* ``move``         the health-gated pointer move: compare-and-set of the store pointer. When the
                   store refuses (``StoreConflict``: someone else moved it), the caller's
                   ``compensate`` hook runs (it puts the platform's traffic back, and must not
                   overwrite a winner), then ``DeployConflict`` is raised. On success the statuses
                   follow: the new live version ``live``, the old live and an abandoned canary
                   ``retired``;
* ``mark_failed``, ``audit``, ``history`` (status rows), ``last_release`` (the last audited one).

``transition(pointer, version, canary_weight)`` is the pure rule behind ``move``: which version
is live, previous, canary afterwards and which versions retire.

Adding a target (Knative, Cloud Run, ...)
-----------------------------------------
Implement the ``Target`` protocol (``targets/base.py``) in ``targets/<name>/`` and give its
rollback/promote the platform half as a ``Platform``::

    class Platform(Protocol):
        handle_key: str                                   # e.g. "revision": the name in details
        def current(self, agent) -> Pointer: ...          # the pointer, DeployError if none
        def locate(self, pointer, version) -> str: ...    # store version -> platform handle
        def route(self, pointer, version, handle) -> Routed: ...  # all traffic to handle

Call order (``R = Release(store, "knative", actor)``):

* deploy (``apply``): ``R.pointer(agent)`` -> ``R.register(...)`` -> publish on the platform ->
  health gate (on failure: ``R.mark_failed`` + ``R.audit("deploy_failed", ...)``, traffic stays) ->
  route traffic (all, or the canary weight) -> ``R.move(agent, n, expected_revision=plan's,
  canary_weight=w, url=..., details=..., compensate=<put traffic back>)`` ->
  ``R.audit("deploy", ...)``;
* rollback / promote: ``move_traffic(R, platform, agent, version=v)`` /
  ``move_traffic(R, platform, agent, promote=True)``: choose, locate, route, move, audit;
* status: ``R.pointer`` + read the platform back + ``R.history(agent)`` + ``R.last_release(agent)``.

Example: the platform half of a rollback for a service whose traffic is one "revision" field::

    class KnativeTraffic:
        handle_key = "revision"
        def current(self, agent):
            pointer = release.pointer(agent)
            if pointer is None:
                raise DeployError(agent, "no Knative deployment on record", hint="agentdock deploy")
            return pointer
        def locate(self, pointer, version):
            return pointer.details["revisions"][str(version)]
        def route(self, pointer, version, handle):
            before = api.read_traffic(pointer.agent)
            generation = api.set_traffic(pointer.agent, {handle: 100})
            undo = lambda: api.set_traffic(pointer.agent, before, if_generation=generation)
            return Routed(undo, details={"revision": handle}, shown={})

    deployment = move_traffic(Release(store, "knative", actor), KnativeTraffic(), "summarizer")
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from agentdock.targets.base import Deployment
from agentdock.targets.transition import Move, transition

from agentdock.errors import DeployConflict, DeployError, RecordNotFound, StoreConflict
from agentdock.store.base import AuditRecord, MetadataStore, Pointer, VersionRecord, utcnow

Undo = Callable[[], None]
RELEASE_ACTIONS = ("deploy", "deploy_failed", "rollback", "promote")


class Routed(NamedTuple):
    """What the platform half returns after moving traffic: how to put it back, what the pointer's
    details gain, and what the Deployment shows besides the release facts."""

    undo: Undo
    details: dict[str, Any] = {}
    shown: dict[str, Any] = {}


class Platform(Protocol):
    """The platform half of a pointer move (rollback, promote). See the module docstring."""

    handle_key: str

    def current(self, agent: str) -> Pointer: ...

    def locate(self, pointer: Pointer, version: int) -> str: ...

    def route(self, pointer: Pointer, version: int, handle: str) -> Routed: ...


@dataclass
class Release:
    """The release bookkeeping of one target (``target``) in one store, done as ``actor``."""

    store: MetadataStore
    target: str
    actor: str
    alias: str = "live"  # the store pointer's name (a platform alias name lives in its details)

    def pointer(self, agent: str) -> Pointer | None:
        return self.store.get_pointer(agent, self.target, self.alias)

    def unmoved(self, agent: str, planned_revision: int | None) -> Pointer | None:
        """The pointer, provided it has not moved since a plan saw ``planned_revision`` (apply's
        precondition); DeployConflict otherwise."""
        pointer = self.pointer(agent)
        if (pointer.revision if pointer else None) != planned_revision:
            raise DeployConflict(agent, "the live pointer moved since this plan was made", hint="plan again")
        return pointer

    def audit(self, action: str, agent: str, details: dict[str, Any]) -> None:
        self.store.append_audit(
            AuditRecord(
                actor=self.actor, action=action, agent=agent, target=self.target, details=details, at=utcnow()
            )
        )

    def version_for(
        self, agent: str, *, content_hash: str, image: str | None, force: bool
    ) -> tuple[int, bool]:
        """(number, reuse) for a deploy: the version this target made from the same content and image
        is reused (a re-run after a failure converges on it, e.g. the same Lambda version or Knative
        revision), unless ``force``; else the next number."""
        versions = self.store.list_versions(agent)
        if not force:
            for record in reversed(versions):
                if (
                    record.target == self.target
                    and record.content_hash == content_hash
                    and record.image == image
                ):
                    return record.number, True
        return (versions[-1].number + 1 if versions else 1), False

    def register(
        self,
        agent: str,
        *,
        content_hash: str,
        spec: dict[str, Any],
        image: str | None,
        label: str | None,
        number: int | None = None,
        reuse: bool = False,
    ) -> VersionRecord:
        """A new immutable version, or (``reuse``) version ``number`` again (a re-run converges on
        it; a failed/retired one is registered anew). With ``number`` given, a new version must get
        that number, else another deploy took it: DeployConflict."""
        if reuse and number is not None:
            record = self.store.get_version(agent, number)
            if record.status in ("failed", "retired"):
                self.store.set_version_status(agent, number, "registered")
            return record
        self.store.ensure_agent(agent)
        record = self.store.create_version(
            agent,
            content_hash=content_hash,
            target=self.target,
            spec=spec,
            created_by=self.actor,
            image=image,
            label=label,
        )
        if number is not None and record.number != number:
            self.store.set_version_status(agent, record.number, "failed")
            raise DeployConflict(
                "store", f"version {number} was taken by another deploy meanwhile", hint="re-run the deploy"
            )
        return record

    def mark_failed(self, agent: str, version: int) -> None:
        with contextlib.suppress(RecordNotFound):
            self.store.set_version_status(agent, version, "failed")

    def check(self, agent: str, version: int, *, allow_failed: bool = False) -> VersionRecord:
        """The record of ``version``; unknown versions (and, unless allowed, failed ones) refused."""
        try:
            record = self.store.get_version(agent, version)
        except RecordNotFound as exc:
            known = ", ".join(str(v.number) for v in self.store.list_versions(agent)) or "none"
            raise DeployError(
                f"version {version}", f"{agent} has no version {version}", hint=f"known versions: {known}"
            ) from exc
        if record.status == "failed" and not allow_failed:
            raise DeployError(
                f"version {version}",
                f"version {version} failed its deploy; live is not moved to it",
                hint="deploy that content again to re-run its health gate",
            )
        return record

    def choose(self, agent: str, pointer: Pointer, version: int | None, *, promote: bool = False) -> int:
        """The version a promote (the canary), a rollback to ``version``, or a plain rollback (the
        live one while a canary runs: the canary is abandoned; else the previous one) moves to."""
        wanted: int | None
        if promote:
            if pointer.canary_version is None:
                raise DeployError(
                    agent,
                    "no canary in progress",
                    hint=f"agentdock deploy --target {self.target} --canary 10",
                )
            wanted = pointer.canary_version
        elif version is not None:
            wanted = version
        elif pointer.canary_version is not None:
            wanted = pointer.live_version
        else:
            wanted = pointer.previous_version
        if wanted is None:
            raise DeployError(
                agent,
                "there is no previous version to roll back to",
                hint=f"name one: `agentdock rollback {agent} VERSION` (see `agentdock status {agent}`)",
            )
        if wanted != pointer.live_version or pointer.canary_version is not None:
            self.check(agent, wanted, allow_failed=promote)
        return wanted

    def move(
        self,
        agent: str,
        version: int,
        *,
        expected_revision: int | None,
        current: Pointer | None | bool = True,
        canary_weight: float = 0.0,
        compensate: Undo | None = None,
        **fields: Any,
    ) -> tuple[Pointer, Move]:
        """Compare-and-set the pointer so ``version`` takes traffic; only after its health gate.
        ``current`` is the pointer the transition starts from (True: read it now). ``fields``
        are further pointer fields (``url``, ``details``). On a lost race ``compensate`` runs
        (best effort) and DeployConflict is raised; nothing in the store changed."""
        start = self.pointer(agent) if current is True else current
        assert start is None or isinstance(start, Pointer)
        move = transition(start, version, canary_weight=canary_weight)
        try:
            moved = self.store.move_pointer(
                agent, self.target, self.alias, expected_revision=expected_revision, **move.fields(), **fields
            )
        except StoreConflict as exc:
            if compensate is not None:
                with contextlib.suppress(Exception):
                    compensate()
            now = self.pointer(agent)
            raise DeployConflict(
                "store pointer",
                f"another deploy or rollback moved this agent's pointer meanwhile "
                f"(now v{now.live_version if now else '?'}; v{version} did not go live)",
                hint="re-run",
            ) from exc
        if not move.canary:
            self.store.set_version_status(agent, version, "live")
        for old in move.retired:
            self.store.set_version_status(agent, old, "retired")
        return moved, move

    def history(self, agent: str) -> list[dict[str, Any]]:
        """One row per version this target made, oldest first (``status --json`` history)."""
        return [
            {
                "version": v.number,
                "status": v.status,
                "content_hash": v.content_hash,
                "image": v.image,
                "label": v.label,
                "created_at": v.created_at.isoformat(),
                "created_by": v.created_by,
            }
            for v in self.store.list_versions(agent)
            if v.target == self.target
        ]

    def last_release(self, agent: str, actions: tuple[str, ...] = RELEASE_ACTIONS) -> dict[str, Any] | None:
        """The newest audited release action on this target (deploy, failure, rollback, promote)."""
        return next(
            (
                {"action": a.action, "at": a.at.isoformat(), "actor": a.actor, **a.details}
                for a in self.store.list_audit(agent, limit=50)
                if a.target == self.target and a.action in actions
            ),
            None,
        )


def move_traffic(
    release: Release, platform: Platform, agent: str, *, version: int | None = None, promote: bool = False
) -> Deployment:
    """Rollback (to ``version``, else the previous one, or abandon the canary) or promote the
    canary: choose -> locate -> route -> compare-and-set (traffic goes back on a lost race) ->
    audit. No rebuild: the version exists on the platform and once passed its health gate."""
    started = time.monotonic()
    pointer = platform.current(agent)
    wanted = release.choose(agent, pointer, version, promote=promote)
    handle = platform.locate(pointer, wanted)
    if wanted == pointer.live_version and pointer.canary_version is None:
        return Deployment(
            agent,
            wanted,
            pointer.url,
            release.target,
            "unchanged",
            0,
            pointer.previous_version,
            {platform.handle_key: handle},
        )
    routed = platform.route(pointer, wanted, handle)
    moved, move = release.move(
        agent,
        wanted,
        expected_revision=pointer.revision,
        current=pointer,
        compensate=routed.undo,
        details={**pointer.details, **routed.details},
    )
    info: dict[str, Any] = {"from": pointer.live_version, "to": wanted, platform.handle_key: handle}
    info["abandoned_canary"] = None if promote else move.abandoned_canary
    release.audit("promote" if promote else "rollback", agent, info)
    duration = int((time.monotonic() - started) * 1000)
    return Deployment(
        agent,
        wanted,
        moved.url,
        release.target,
        "live",
        duration,
        pointer.live_version,
        {**info, **routed.shown},
    )
