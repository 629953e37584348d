"""The target contract: plan -> apply -> rollback -> status -> destroy.

``plan`` is pure data (printed by ``--dry-run --json``); only ``apply``, ``rollback`` and
``destroy`` touch the world. Optional capabilities are small protocols checked with
``isinstance``: ``SupportsCanary`` (``promote``) and ``SupportsLogs`` (``logs``). Each target types
its plan options as a frozen dataclass derived from ``PlanOptions``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentdock.artifact import Artifact

if TYPE_CHECKING:  # keeps `agentdock rollback/status` free of the pydantic import cost
    from agentdock.spec.models import DockSpec


@dataclass(frozen=True)
class Action:
    """One call the plan would make, e.g. ('lambda', 'publish_version', {...})."""

    service: str
    call: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class PlanOptions:
    """What a plan decided, typed per target (subclass it as a frozen dataclass). Read as a
    mapping too (``plan.options["region"]``), printed by ``to_dict`` in ``--dry-run --json``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __getitem__(self, key: str) -> Any:
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass(frozen=True)
class Plan:
    target: str
    agent: str
    spec: DockSpec
    artifact: Artifact
    actions: tuple[Action, ...] = ()
    diff: dict[str, Any] = field(default_factory=dict)
    options: PlanOptions = field(default_factory=PlanOptions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "agent": self.agent,
            "artifact": asdict(self.artifact),
            "actions": [asdict(a) for a in self.actions],
            "diff": self.diff,
            "options": self.options.to_dict(),
        }


@dataclass(frozen=True)
class Deployment:
    agent: str
    version: int
    url: str | None
    target: str
    status: str
    duration_ms: int = 0
    previous_version: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Status:
    agent: str
    target: str
    live_version: int | None
    url: str | None
    healthy: bool | None
    details: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Target(Protocol):
    name: str

    def plan(self, spec: DockSpec, artifact: Artifact, **options: Any) -> Plan: ...

    def apply(self, plan: Plan) -> Deployment: ...

    def rollback(self, agent: str, version: int | None = None) -> Deployment: ...

    def status(self, agent: str) -> Status: ...

    def destroy(self, agent: str) -> None: ...


@runtime_checkable
class SupportsCanary(Protocol):
    """A target with a traffic split: ``deploy --canary N`` starts one, ``promote`` ends it."""

    def promote(self, agent: str) -> Deployment: ...


@runtime_checkable
class SupportsLogs(Protocol):
    """A target that serves a version's log here (``agentdock logs``)."""

    def logs(
        self, agent: str, *, version: int | None = None, follow: bool = False, lines: int = 50
    ) -> Iterator[str]: ...
