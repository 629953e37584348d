"""The Cloud Run plan's typed options and its calls in order, as ``--dry-run --json`` prints them
(the traffic rules and the diff they use are in ``routing``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentdock.targets.base import Action, PlanOptions
from agentdock.targets.cloudrun.model import CloudRunModel

TARGET = "cloudrun"


@dataclass(frozen=True)
class CloudRunOptions(PlanOptions):
    """What a Cloud Run plan decided (``--dry-run --json`` prints it as ``options``)."""

    project: str
    region: str
    service: str
    image: str
    version: int
    reuse_revision: bool  # its revision exists and is Ready: only traffic is sent (a re-run converges)
    revision: str
    canary: int  # percent of traffic to the new revision (0: it takes all)
    health_gate: str
    public: bool
    creating: bool
    force: bool
    pointer_revision: int | None
    endpoint_override: bool
    warnings: tuple[str, ...]


def actions(options: CloudRunOptions, name: str, gate_url_tag: str) -> tuple[Action, ...]:
    """The calls in order. With ``reuse_revision`` the first write sends traffic only (the revision
    is there), so a re-run of the same content makes no new revision."""
    write = "services.create" if options.creating else "services.patch"
    if options.reuse_revision:
        write = "services.patch (traffic only)"
    found: list[Action] = [
        Action(
            "run",
            write,
            {"name": name, "revision": options.revision, "image": options.image},
            "new revision, no traffic yet" if not options.creating else "first revision",
        ),
        Action(
            "run",
            "services.setIamPolicy" if options.public else "services.getIamPolicy",
            {"member": "allUsers", "role": "roles/run.invoker", "grant": options.public},
            "deploy.cloudrun.allow_unauthenticated" if options.public else "private: no allUsers binding",
        ),
    ]
    if options.health_gate != "none":
        found.append(Action("http", "GET /health", {"tag": gate_url_tag}, "health gate before traffic moves"))
    found.append(
        Action(
            "run",
            "services.patch",
            {"name": name, "updateMask": "traffic", "canary": options.canary},
            f"{options.canary} % to {options.revision}" if options.canary else f"live -> {options.revision}",
        )
    )
    return tuple(found)


def model_summary(model: CloudRunModel) -> dict[str, Any]:
    return {"name": model.name, "secrets": [f"{s.var} <- {s.secret}/{s.version}" for s in model.secrets]}
