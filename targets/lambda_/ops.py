"""Pointer moves without a rebuild (rollback, promote), status and destroy.

A rollback is one ``UpdateAlias`` (with the ``RevisionId`` it read) to a Lambda version that
already exists and once passed its health gate, then a compare-and-set of the store pointer; if
the store refuses (someone else moved it), the alias goes back unless a winner moved it since.
Before and after each move, drift between alias and pointer is repaired (``drift``: the store
pointer wins). The store version -> Lambda version mapping is kept in the pointer's details and,
independently, in each Lambda version's description.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from agentdock.targets.base import Deployment, Status
from agentdock.targets.lambda_.aws import AwsApi, cloud_error, error_code, is_not_found, none_if_missing
from agentdock.targets.lambda_.drift import STALE_REVISION, drifted, repair
from agentdock.targets.lambda_.model import parse_description
from agentdock.targets.lambda_.steps import POINTER, TARGET
from agentdock.targets.release import Release, Routed, move_traffic

from agentdock.errors import DeployConflict, DeployError
from agentdock.store.base import MetadataStore, Pointer

AwsFor = Callable[[str], AwsApi]
NO_WEIGHTS: dict[str, Any] = {"AdditionalVersionWeights": {}}


def live_pointer(store: MetadataStore, agent: str) -> Pointer:
    pointer = store.get_pointer(agent, TARGET, POINTER)
    if pointer is None or not pointer.details.get("function_name"):
        raise DeployError(
            agent,
            f"{agent} has no Lambda deployment on record",
            hint=f"agentdock deploy --target lambda ({agent})",
        )
    return pointer


def lambda_version_of(aws: AwsApi, pointer: Pointer, version: int) -> str:
    """The Lambda version that runs store version ``version``: from the pointer's mapping, else from
    the version descriptions (``agentdock vN <hash>``); checked to still exist."""
    fn = pointer.details["function_name"]
    lv = (pointer.details.get("lambda_versions") or {}).get(str(version))
    if lv is None:
        pages = aws.lambda_.get_paginator("list_versions_by_function").paginate(FunctionName=fn)
        for page in pages:
            for item in page["Versions"]:
                parsed = parse_description(item.get("Description"))
                if parsed and parsed[0] == version and item["Version"] != "$LATEST":
                    lv = item["Version"]
    if lv is None:
        raise DeployError(f"version {version}", f"no Lambda version of {fn} runs AgentDock version {version}")
    try:
        aws.lambda_.get_function_configuration(FunctionName=fn, Qualifier=lv)
    except Exception as exc:
        if is_not_found(exc):
            raise DeployError(
                f"version {version}",
                f"Lambda version {lv} of {fn} (AgentDock v{version}) no longer exists",
                hint="deploy that content again instead: agentdock deploy --target lambda",
            ) from exc
        raise cloud_error("lambda", "GetFunctionConfiguration", exc) from exc
    return str(lv)


class LambdaTraffic:
    """The platform half of rollback/promote (``release.move_traffic``): one ``UpdateAlias``."""

    handle_key = "lambda_version"

    def __init__(self, store: MetadataStore, aws: AwsApi) -> None:
        self.store, self.aws = store, aws

    def current(self, agent: str) -> Pointer:
        return live_pointer(self.store, agent)

    def locate(self, pointer: Pointer, version: int) -> str:
        return lambda_version_of(self.aws, pointer, version)

    def route(self, pointer: Pointer, version: int, handle: str) -> Routed:
        fn, alias = pointer.details["function_name"], pointer.details["alias"]
        lam = self.aws.lambda_
        try:
            before = lam.get_alias(FunctionName=fn, Name=alias)
            after = lam.update_alias(
                FunctionName=fn,
                Name=alias,
                FunctionVersion=handle,
                RoutingConfig=NO_WEIGHTS,
                RevisionId=before["RevisionId"],
            )
        except Exception as exc:
            if error_code(exc) in STALE_REVISION:
                raise DeployConflict(
                    "live alias",
                    f"another deploy or rollback moved the alias of {pointer.agent} meanwhile "
                    f"(v{version} did not go live)",
                    hint="re-run",
                ) from exc
            raise cloud_error("lambda", "UpdateAlias", exc) from exc

        def undo() -> None:
            # only if the alias is still as this move left it: a winner's later move stays
            back = {
                "FunctionVersion": before["FunctionVersion"],
                "RoutingConfig": before.get("RoutingConfig") or NO_WEIGHTS,
            }
            if after.get("RevisionId"):
                back["RevisionId"] = after["RevisionId"]
            lam.update_alias(FunctionName=fn, Name=alias, **back)

        details = {"lambda_version": handle, "canary_lambda_version": None}
        return Routed(undo, details=details, shown={"alias": alias})


def move_live(
    store: MetadataStore,
    aws: AwsApi,
    actor: str,
    agent: str,
    *,
    version: int | None,
    action: str,
) -> Deployment:
    """Rollback (``version`` given, or the previous one / the canary abandoned) or promote; drift
    is repaired first (so a rollback to the live version is the manual repair) and the alias is
    settled on the pointer afterwards, whether this move won or lost (``drift``)."""
    live_pointer(store, agent)
    repair(store, aws, actor, agent)
    release = Release(store, TARGET, actor, POINTER)
    try:
        return move_traffic(
            release, LambdaTraffic(store, aws), agent, version=version, promote=action == "promote"
        )
    finally:
        with contextlib.suppress(DeployConflict):  # the alias still moving: its mover settles it
            repair(store, aws, actor, agent)


def status(store: MetadataStore, aws_for: AwsFor, agent: str) -> Status:
    pointer = store.get_pointer(agent, TARGET, POINTER)
    release = Release(store, TARGET, "status", POINTER)
    history = release.history(agent)
    if pointer is None or not pointer.details.get("function_name"):
        return Status(agent, TARGET, None, None, None, {"deployed": False}, history)
    d = pointer.details
    aws, fn, alias_name = aws_for(d["region"]), d["function_name"], d["alias"]
    lam = aws.lambda_

    def maybe(operation: str, call: Callable[[], Any]) -> Any:
        return none_if_missing("lambda", operation, call)

    alias = maybe("GetAlias", lambda: lam.get_alias(FunctionName=fn, Name=alias_name))
    url = maybe(
        "GetFunctionUrlConfig", lambda: lam.get_function_url_config(FunctionName=fn, Qualifier=alias_name)
    )
    versions: list[dict[str, Any]] = []
    if alias is not None:
        for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=fn):
            for item in page["Versions"]:
                if item["Version"] == "$LATEST":
                    continue
                parsed = parse_description(item.get("Description"))
                versions.append(
                    {
                        "lambda_version": item["Version"],
                        "version": parsed[0] if parsed else None,
                        "content_hash": parsed[1] if parsed else None,
                        "last_modified": item.get("LastModified"),
                    }
                )
    concurrency = maybe("GetFunctionConcurrency", lambda: lam.get_function_concurrency(FunctionName=fn)) or {}
    weights = ((alias or {}).get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    drift = drifted(pointer, alias)
    last = release.last_release(agent)
    live_status = next((h["status"] for h in history if h["version"] == pointer.live_version), None)
    details = {
        "function_name": fn,
        "region": d["region"],
        "alias": alias_name,
        "function_version": (alias or {}).get("FunctionVersion"),
        "weights": weights,
        "canary": {"version": pointer.canary_version, "weight": pointer.canary_weight}
        if pointer.canary_version
        else None,
        "url": (url or {}).get("FunctionUrl"),
        "invoke_mode": (url or {}).get("InvokeMode"),
        "auth_type": (url or {}).get("AuthType"),
        "reserved_concurrency": concurrency.get("ReservedConcurrentExecutions"),
        "versions": versions,
        "lambda_versions": d.get("lambda_versions") or {},
        "previous_version": pointer.previous_version,
        "last_deploy": last,
        "drift": drift,
    }
    healthy = (not drift) and live_status == "live"
    return Status(
        agent,
        TARGET,
        pointer.live_version,
        (url or {}).get("FunctionUrl") or pointer.url,
        healthy,
        details,
        history,
    )


def destroy(store: MetadataStore, aws_for: AwsFor, actor: str, agent: str) -> None:
    """Delete the function (its versions, aliases, URLs, policy go with it) and the role AgentDock
    created; the ECR repository and its images stay (they are the build history). Idempotent."""
    pointer = store.get_pointer(agent, TARGET, POINTER)
    if pointer is None or not pointer.details.get("function_name"):
        return
    d = pointer.details
    aws = aws_for(d["region"])
    calls: list[tuple[str, str, Callable[[], Any]]] = [
        ("lambda", "DeleteFunction", lambda: aws.lambda_.delete_function(FunctionName=d["function_name"]))
    ]
    if d.get("role_created") and d.get("role_name"):
        from agentdock.targets.lambda_.model import ROLE_POLICY_NAME

        role = d["role_name"]
        calls.append(
            (
                "iam",
                "DeleteRolePolicy",
                lambda: aws.iam.delete_role_policy(RoleName=role, PolicyName=ROLE_POLICY_NAME),
            )
        )
        calls.append(("iam", "DeleteRole", lambda: aws.iam.delete_role(RoleName=role)))
    for service, operation, call in calls:
        try:
            call()
        except Exception as exc:
            if not is_not_found(exc):
                raise cloud_error(service, operation, exc) from exc
    store.delete_agent(agent, TARGET)
    Release(store, TARGET, actor, POINTER).audit(
        "destroy",
        agent,
        {"function_name": d["function_name"], "role_deleted": bool(d.get("role_created"))},
    )
