"""Drift between the live alias and the store pointer, and its repair.

A rollback/promote moves two things that cannot change in one transaction: the Lambda alias
(``UpdateAlias`` with ``RevisionId``) and then the store pointer (compare-and-set). Between the two,
and after a crash or a lost race whose compensating step could not run, the alias can point at a
version the pointer does not record: *drift*.

The repair rule: **the store pointer wins**. The pointer is the record of intent, and it is the
only half that is committed atomically; the audit log is written only after a pointer
compare-and-set succeeded, so the newest audited move is always already in the pointer (or was
superseded by a later pointer move). "Reconcile to the latest audited move" and "put the alias back
to the pointer's version" therefore name the same version; following the alias instead would adopt
an uncommitted move (a loser's). So a repair sets the alias to the pointer's ``lambda_version`` and
canary weights, with the ``RevisionId`` it read, and audits a ``repair`` action.

Who repairs, so that concurrent rollbacks end consistent:

* every rollback/promote repairs *before* it moves (it starts from an alias that matches the
  pointer) and *after* its compare-and-set, win or lose (``settle``): a concurrent repair may have
  put the alias back between this move's ``UpdateAlias`` and its pointer write;
* a repair that finds the pointer moved while it wrote the alias reads both again (bounded).

``agentdock rollback AGENT <live version>`` is the manual repair: no move, only the repair.
"""

from __future__ import annotations

from typing import Any

from agentdock.targets.lambda_.aws import AwsApi, cloud_error, error_code
from agentdock.targets.lambda_.steps import POINTER, TARGET
from agentdock.targets.release import Release

from agentdock.errors import DeployConflict
from agentdock.store.base import MetadataStore, Pointer

# what UpdateAlias answers when the RevisionId given is no longer the alias's
STALE_REVISION = ("PreconditionFailedException", "ResourceConflictException")
ATTEMPTS = 5


def wanted_alias(pointer: Pointer) -> tuple[str | None, dict[str, float]]:
    """The alias the pointer records: its Lambda version and canary weights."""
    d = pointer.details
    canary = d.get("canary_lambda_version")
    weights = {str(canary): float(pointer.canary_weight)} if canary else {}
    return d.get("lambda_version"), weights


def drifted(pointer: Pointer, alias: dict[str, Any] | None) -> bool:
    """Whether the alias (``GetAlias``'s answer, or None when it is missing) disagrees with the pointer."""
    if alias is None:
        return True
    version, weights = wanted_alias(pointer)
    have = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return alias.get("FunctionVersion") != version or set(have) != set(weights)


def repair(store: MetadataStore, aws: AwsApi, actor: str, agent: str) -> dict[str, Any] | None:
    """Put the alias where the pointer says (see the module docstring); the audited repair, or None
    when there was no drift. DeployConflict when the alias keeps moving under it."""
    lam = aws.lambda_
    for _ in range(ATTEMPTS):
        pointer = store.get_pointer(agent, TARGET, POINTER)
        if pointer is None or not pointer.details.get("lambda_version"):
            return None  # nothing recorded to repair towards
        fn, name = pointer.details["function_name"], pointer.details["alias"]
        try:
            alias = lam.get_alias(FunctionName=fn, Name=name)
        except Exception as exc:
            raise cloud_error("lambda", "GetAlias", exc) from exc
        if not drifted(pointer, alias):
            return None
        version, weights = wanted_alias(pointer)
        try:
            lam.update_alias(
                FunctionName=fn,
                Name=name,
                FunctionVersion=version,
                RoutingConfig={"AdditionalVersionWeights": weights},
                RevisionId=alias["RevisionId"],
            )
        except Exception as exc:
            if error_code(exc) in STALE_REVISION:
                continue  # the alias moved since we read it: read both again
            raise cloud_error("lambda", "UpdateAlias", exc) from exc
        now = store.get_pointer(agent, TARGET, POINTER)
        if now is None or now.revision != pointer.revision:
            continue  # the pointer moved while we wrote: align with its new value
        info = {
            "from": alias.get("FunctionVersion"),
            "from_weights": (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {},
            "to": version,
            "to_weights": weights,
            "live_version": pointer.live_version,
            "pointer_revision": pointer.revision,
        }
        Release(store, TARGET, actor, POINTER).audit("repair", agent, info)
        return info
    raise DeployConflict(
        "live alias",
        f"the alias of {agent} kept moving while it was being repaired",
        hint="another deploy or rollback is running; re-run when it is done",
    )
