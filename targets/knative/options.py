"""The Knative plan's options: what ``plan`` decided, typed (printed by ``deploy --dry-run --json``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentdock.targets.base import PlanOptions

from agentdock.errors import DeployError


@dataclass(frozen=True)
class KnativeOptions(PlanOptions):
    namespace: str
    service: str
    revision: str
    version: int
    reuse: bool  # a re-run of the same content and image converges on the same version/revision
    image: str
    health_gate: str  # url | none
    canary: int  # percent of traffic to the ``candidate`` tag (0: all traffic moves to live)
    keep: int | None  # --keep N: delete all but the N newest revisions after a successful deploy
    force: bool
    pointer_revision: int | None  # the store pointer this plan saw (apply refuses when it moved)
    live_version: int | None
    server_dry_run: bool  # the API server admitted the manifest (dryRun=All)
    warnings: tuple[str, ...] = ()


def canary_percent(value: Any) -> int:
    """``--canary N``: an integer percent 1..99 (Knative splits traffic in whole percents)."""
    if value in (None, 0, 0.0):
        return 0
    number = float(value)
    if not number.is_integer() or not 0 < number < 100:
        raise DeployError(
            "--canary",
            f"{value!r} is not a whole percent between 1 and 99",
            hint="Knative splits traffic in whole percents: e.g. --canary 20",
        )
    return int(number)


def keep_count(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or value < 1:
        raise DeployError("--keep", f"{value!r} is not a count of revisions to keep", hint="e.g. --keep 5")
    return value
