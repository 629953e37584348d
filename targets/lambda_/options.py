"""The Lambda plan's options, typed: what ``plan()`` decided and ``apply()`` acts on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentdock.targets.base import PlanOptions

from agentdock.errors import DeployError


@dataclass(frozen=True)
class LambdaOptions(PlanOptions):
    """What a Lambda plan decided (``--dry-run --json`` prints it as ``options``)."""

    region: str
    function_name: str
    alias: str
    invoke_mode: str
    invoke_mode_evidence: str
    health_gate: str
    canary: float
    image_uri: str
    force: bool
    version: int
    pointer_revision: int | None
    endpoint_override: bool
    warnings: tuple[str, ...]


def canary_weight(value: Any) -> float:
    """``--canary 10`` (percent) -> 0.1 of the traffic; 0 when not asked."""
    if value in (None, 0, 0.0, ""):
        return 0.0
    try:
        percent = float(value)
    except (TypeError, ValueError) as exc:
        raise DeployError("--canary", f"{value!r} is not a percentage", hint="--canary 10") from exc
    if not 0 < percent < 100:
        raise DeployError("--canary", f"{percent:g} is not between 0 and 100 (exclusive)", hint="--canary 10")
    return round(percent / 100.0, 4)
