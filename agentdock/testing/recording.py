"""``RecordingTarget``: a target double that keeps every plan, apply, rollback and promote it
receives, and keeps versions and the live pointer with the real release core
(``targets.release``) in the store it is given. Nothing runs: "traffic" is a dict.

    target = RecordingTarget(store=MemoryStore())
    deployment = target.apply(target.plan(spec, artifact, canary=10))
    target.applied[0].options["canary"]          # what the caller asked for
    target.rollback(spec.agent.name)             # real rollback bookkeeping

``healthy=False`` makes the next apply fail its "health gate" (the version is marked failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentdock.artifact import Artifact
from agentdock.errors import DeployError, HealthGateFailed
from agentdock.store.base import MetadataStore, Pointer
from agentdock.targets.base import Action, Deployment, Plan, PlanOptions, Status
from agentdock.targets.release import Release, Routed, move_traffic

if TYPE_CHECKING:
    from agentdock.spec.models import DockSpec


@dataclass(frozen=True)
class RecordingOptions(PlanOptions):
    canary: float  # fraction of traffic (0 = all)
    force: bool
    asked: tuple[tuple[str, Any], ...]  # every option the caller passed, sorted


class RecordingTarget:
    """Implements ``Target``, ``SupportsCanary`` and the release core's ``Platform``."""

    name = "recording"
    handle_key = "handle"

    def __init__(self, store: MetadataStore | None = None, *, healthy: bool = True, **settings: Any) -> None:
        from agentdock.store.memory import MemoryStore

        self.store = store if store is not None else MemoryStore()
        self.settings = settings
        self.healthy = healthy
        self.release = Release(self.store, self.name, str(settings.get("actor") or "recording"))
        self.plans: list[Plan] = []
        self.applied: list[Plan] = []
        self.rollbacks: list[tuple[str, int | None]] = []
        self.promotions: list[str] = []
        self.destroyed: list[str] = []
        self.traffic: dict[str, dict[str, float]] = {}  # agent -> {handle: weight}

    # --- Target -------------------------------------------------------------------------------

    def plan(self, spec: DockSpec, artifact: Artifact, **options: Any) -> Plan:
        canary = float(options.get("canary") or 0.0) / 100.0
        opts = RecordingOptions(canary, bool(options.get("force")), tuple(sorted(options.items())))
        pointer = self.release.pointer(spec.agent.name)
        actions = (
            Action("recording", "register", {"content_hash": artifact.content_hash}),
            Action("recording", "route", {"canary": canary}),
            Action("store", "move_pointer", {"expected_revision": pointer.revision if pointer else None}),
        )
        plan = Plan(self.name, spec.agent.name, spec, artifact, actions, {}, opts)
        self.plans.append(plan)
        return plan

    def apply(self, plan: Plan) -> Deployment:
        self.applied.append(plan)
        opts = plan.options
        if not isinstance(opts, RecordingOptions):
            raise DeployError("plan", f"a {plan.target} plan cannot be applied by the recording target")
        agent, before = plan.agent, self.release.pointer(plan.agent)
        record = self.release.register(
            agent,
            content_hash=plan.artifact.content_hash,
            spec={},
            image=plan.artifact.image,
            label=plan.spec.metadata.version,
        )
        n = record.number
        if not self.healthy:
            self.release.mark_failed(agent, n)
            self.release.audit("deploy_failed", agent, {"version": n})
            raise HealthGateFailed(f"v{n}", "the recording target was told to fail its gate")
        old = dict(self.traffic.get(agent, {}))
        weights = {f"h{n}": opts.canary} if opts.canary else {f"h{n}": 1.0}
        if opts.canary and before and before.live_version is not None:
            weights[f"h{before.live_version}"] = 1.0 - opts.canary
        self.traffic[agent] = weights
        moved, move = self.release.move(
            agent,
            n,
            expected_revision=plan.actions[-1].params["expected_revision"],
            canary_weight=opts.canary,
            url=f"recording://{agent}",
            compensate=lambda: self.traffic.__setitem__(agent, old),
        )
        self.release.audit("deploy", agent, {"version": n, "canary_weight": opts.canary})
        status = "canary" if move.canary else "live"
        return Deployment(agent, n, moved.url, self.name, status, 0, move.previous_version)

    def rollback(self, agent: str, version: int | None = None) -> Deployment:
        self.rollbacks.append((agent, version))
        return move_traffic(self.release, self, agent, version=version)

    def promote(self, agent: str) -> Deployment:
        self.promotions.append(agent)
        return move_traffic(self.release, self, agent, promote=True)

    def status(self, agent: str) -> Status:
        pointer = self.release.pointer(agent)
        live = pointer.live_version if pointer else None
        details = {"traffic": self.traffic.get(agent, {}), "last": self.release.last_release(agent)}
        url = pointer.url if pointer else None
        return Status(agent, self.name, live, url, live is not None, details, self.release.history(agent))

    def destroy(self, agent: str) -> None:
        self.destroyed.append(agent)
        self.traffic.pop(agent, None)
        self.store.delete_agent(agent, self.name)
        self.release.audit("destroy", agent, {})

    # --- Platform (the release core's platform half) -------------------------------------------

    def current(self, agent: str) -> Pointer:
        pointer = self.release.pointer(agent)
        if pointer is None:
            raise DeployError(agent, f"{agent} has no recording deployment", hint="apply a plan first")
        return pointer

    def locate(self, pointer: Pointer, version: int) -> str:
        return f"h{version}"

    def route(self, pointer: Pointer, version: int, handle: str) -> Routed:
        agent, old = pointer.agent, dict(self.traffic.get(pointer.agent, {}))
        self.traffic[agent] = {handle: 1.0}
        return Routed(lambda: self.traffic.__setitem__(agent, old), details={"handle": handle})
