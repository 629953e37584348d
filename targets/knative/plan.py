"""The plan stage of a Knative deploy (pure): the frozen spec a version records, and the calls the
deploy will make, as ``Action`` rows that ``--dry-run --json`` prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentdock.targets.base import Action, Artifact
from agentdock.targets.knative.model import KnativeModel

from agentdock.build.flavours import SPEC_FILE
from agentdock.errors import DeployError
from agentdock.spec.models import DockSpec


def frozen_spec(artifact: Artifact, spec: DockSpec) -> dict[str, Any]:
    """The frozen spec the build context carries (``${VAR}`` references kept, never values)."""
    path = Path(artifact.context_dir) / SPEC_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeployError(
            str(path),
            f"the build context of {spec.agent.name} has no readable frozen spec ({type(exc).__name__})",
            hint="rebuild it: agentdock build --target knative",
        ) from exc
    return data


def plan_actions(
    model: KnativeModel, version: int, *, exists: bool, gate: str, canary: int, keep: int | None
) -> tuple[Action, ...]:
    rev, where = model.revision(version), f"{model.namespace}/{model.service}"
    steps = [
        Action(
            "knative",
            "replace_service" if exists else "create_service",
            {"service": where, "revision": rev},
            "new template; traffic unchanged",
        ),
        Action("knative", "wait_revision", {"revision": rev}, "watch until Ready or a failure reason"),
        Action("knative", "tag_revision", {"revision": rev, "tag": f"v{version}"}, "the revision's own URL"),
    ]
    if gate == "url":
        steps.append(Action("gate", "url", {"path": "/health"}, "GET on the v<n> tag URL before live moves"))
    split = {"candidate": rev, "percent": canary} if canary else {"live": rev}
    steps.append(Action("knative", "route_traffic", split, "canary" if canary else "live moves"))
    if keep:
        steps.append(Action("knative", "delete_old_revisions", {"keep": keep}, "asked with --keep"))
    return tuple(steps)
