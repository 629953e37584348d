"""The target contract: plan -> apply -> rollback -> status -> destroy.

``plan`` is pure data (printed by ``--dry-run --json``); only ``apply``, ``rollback`` and
``destroy`` touch the world.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # keeps `agentdock rollback/status` free of the pydantic import cost
    from agentdock.spec.models import DockSpec


@dataclass(frozen=True)
class Artifact:
    """A rendered build context: its folder, content hash and, when built/pushed, an image ref."""

    context_dir: str
    content_hash: str
    image: str | None = None
    flavour: str = "local"


@dataclass(frozen=True)
class Action:
    """One call the plan would make, e.g. ('lambda', 'publish_version', {...})."""

    service: str
    call: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    target: str
    agent: str
    spec: DockSpec
    artifact: Artifact
    actions: tuple[Action, ...] = ()
    diff: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "agent": self.agent,
            "artifact": asdict(self.artifact),
            "actions": [asdict(a) for a in self.actions],
            "diff": self.diff,
            "options": self.options,
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


class Target(Protocol):
    name: str

    def plan(self, spec: DockSpec, artifact: Artifact, **options: Any) -> Plan: ...

    def apply(self, plan: Plan) -> Deployment: ...

    def rollback(self, agent: str, version: int | None = None) -> Deployment: ...

    def status(self, agent: str) -> Status: ...

    def destroy(self, agent: str) -> None: ...
