"""The Google Cloud Run target: the Cloud Run Admin API v2 through the official ``google-cloud-run``
client. Modules by role: ``target`` (the class: plan/apply), ``resolve`` (Dockfile + settings ->
model), ``model`` (the v2 ``Service`` body, pure), ``manifest`` (the same as Knative-style
``service.yaml``), ``routing`` (traffic rules, diff), ``plan`` (typed options, calls), ``observe``
(secrets, earlier versions), ``gate`` (health gate), ``ops`` (rollback/promote, status, destroy),
``client`` (the only module that calls Google).

``CloudRunTarget`` is imported on first use, so the pure modules load without the release core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentdock.targets.cloudrun.target import CloudRunTarget

__all__ = ["CloudRunTarget"]


def __getattr__(name: str) -> Any:
    if name == "CloudRunTarget":
        from agentdock.targets.cloudrun.target import CloudRunTarget

        return CloudRunTarget
    raise AttributeError(name)
