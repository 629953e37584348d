"""Acting on an existing deployment: rollback, promote, status, logs, destroy. One implementation
for the CLI, the CDK construct and a dashboard; optional capabilities are checked with
``isinstance`` against ``targets.base.SupportsCanary`` / ``SupportsLogs``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from agentdock.errors import CapabilityMissing

if TYPE_CHECKING:
    from agentdock.targets.base import Deployment, Status, Target


def target_settings(region: str | None, endpoint_url: str | None, **more: str | None) -> dict[str, str]:
    """Target settings given as flags (only those set: region, endpoint_url, and e.g. knative's
    context and namespace, cloudrun's project); targets ignore settings they do not use."""
    return {k: v for k, v in {"region": region, "endpoint_url": endpoint_url, **more}.items() if v}


def open_target(
    target: str,
    store: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    **settings: Any,
) -> Target:
    """The target an existing agent lives on, bound to the store that target reads by default."""
    from agentdock.ops.stores import store_for
    from agentdock.targets import get_target

    return get_target(
        target, store=store_for(store, target=target), **settings, **target_settings(region, endpoint_url)
    )


def open_agent_target(
    agent: str,
    target: str | None = None,
    store: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    **settings: Any,
) -> Target:
    """The target ``agent`` lives on: the flags given, else what its last deploy remembered
    (``ops.remembered``), else the local target with the default store."""
    from agentdock.ops.remembered import where

    w = where(
        agent,
        target=target,
        store=store,
        region=region,
        endpoint_url=endpoint_url,
        context=settings.pop("context", None),
    )
    if w.context:
        settings["context"] = w.context
    return open_target(w.target, w.store, w.region, w.endpoint_url, **settings)


def rollback(tgt: Target, agent: str, version: int | None = None) -> Deployment:
    """Live goes back to ``version`` (default: the previous one; a running canary is abandoned)."""
    return tgt.rollback(agent, version)


def promote(tgt: Target, agent: str) -> Deployment:
    """The canary takes all traffic (targets with a traffic split only)."""
    from agentdock.targets.base import SupportsCanary

    if not isinstance(tgt, SupportsCanary):
        raise CapabilityMissing("--target", f"target {tgt.name!r} has no canary to promote")
    return tgt.promote(agent)


def status(tgt: Target, agent: str) -> Status:
    return tgt.status(agent)


def logs(
    tgt: Target, agent: str, *, version: int | None = None, follow: bool = False, lines: int = 50
) -> Iterator[str]:
    """A version's log lines (and, with ``follow``, new ones as they come)."""
    from agentdock.targets.base import SupportsLogs

    if not isinstance(tgt, SupportsLogs):
        raise CapabilityMissing(
            "--target", f"target {tgt.name!r} does not serve logs here; use its own console"
        )
    return tgt.logs(agent, version=version, follow=follow, lines=lines)


def destroy(tgt: Target, agent: str) -> None:
    tgt.destroy(agent)
