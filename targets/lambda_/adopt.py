"""Functions AgentDock's CLI never deployed (a CDK app's ``AgentFunction``, a console's): their
versions and alias are read from Lambda itself and recorded, so rollback, promote and status work
on them exactly as on a CLI-deployed one (``--function NAME``).

``sync`` runs before each of those commands. It registers every published Lambda version the
store does not know as a store version (oldest first; the pointer's ``lambda_versions`` maps
store version -> Lambda version, and each record's label says ``lambda:N``), then makes the store
pointer say what the alias says (live version, canary and its weight), and audits what it changed
(``adopt`` the first time, ``sync`` after a deploy AgentDock did not make). Lambda is the truth
here: a ``cdk deploy`` that moved the alias moves the pointer, its old live version becomes the
previous one, so ``agentdock rollback AGENT --function NAME`` (no version) undoes that deploy.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from agentdock.targets.base import Status
from agentdock.targets.lambda_.aws import AwsApi, default_region, none_if_missing
from agentdock.targets.lambda_.model import parse_description
from agentdock.targets.lambda_.steps import POINTER, TARGET
from agentdock.targets.release import Release

from agentdock.errors import DeployError, RecordNotFound
from agentdock.store.base import MetadataStore, Pointer

if TYPE_CHECKING:
    from agentdock.targets.lambda_.target import LambdaTarget

# AgentFunction's version description: "agentdock <agent> sha256:<hex>" (cdk/function.py)
_CDK_DESCRIPTION = re.compile(r"^agentdock \S+ (?P<hash>sha256:[0-9a-f]{64})")


def _call(operation: str, call: Any) -> Any:
    return none_if_missing("lambda", operation, call)


def _published(aws: AwsApi, fn: str) -> list[dict[str, Any]]:
    pages = aws.lambda_.get_paginator("list_versions_by_function").paginate(FunctionName=fn)
    found = [item for page in pages for item in page["Versions"] if item["Version"] != "$LATEST"]
    return sorted(found, key=lambda item: int(item["Version"]))


def _known(store: MetadataStore, agent: str, item: dict[str, Any]) -> int | None:
    """The store version a CLI deploy recorded for this Lambda version (its description says vN)."""
    parsed = parse_description(item.get("Description"))
    if parsed is None:
        return None
    try:
        record = store.get_version(agent, parsed[0])
    except RecordNotFound:
        return None
    return record.number if record.content_hash == parsed[1] else None


def _content_hash(item: dict[str, Any]) -> str:
    match = _CDK_DESCRIPTION.match(item.get("Description") or "")
    return match["hash"] if match else f"lambda-code:{item.get('CodeSha256', '')}"


def sync(
    store: MetadataStore, aws: AwsApi, actor: str, agent: str, *, function_name: str, alias: str, region: str
) -> Pointer:
    """Record ``function_name``'s versions and alias for ``agent``; returns the store pointer."""
    release = Release(store, TARGET, actor, POINTER)
    pointer = release.pointer(agent)
    recorded = pointer.details.get("function_name") if pointer else None
    if recorded not in (None, function_name):
        raise DeployError(
            "--function",
            f"{agent} is recorded on function {recorded}, not {function_name}",
            hint=f"use --function {recorded}, or another agent name for {function_name}",
        )
    lam = aws.lambda_
    current = _call("GetAlias", lambda: lam.get_alias(FunctionName=function_name, Name=alias))
    if current is None:
        raise DeployError(
            "--function",
            f"function {function_name} (region {region}) has no alias {alias!r}",
            hint="deploy it with an alias (AgentFunction creates `live`), or check --region",
        )
    live_lv = str(current["FunctionVersion"])
    weights = (current.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    if live_lv == "$LATEST":
        raise DeployError(
            "--function", f"alias {alias} of {function_name} points at $LATEST, not a published version"
        )
    mapping: dict[str, str] = dict((pointer.details.get("lambda_versions") or {}) if pointer else {})
    by_lambda = {lv: int(v) for v, lv in mapping.items()}
    registered: dict[str, str] = {}
    for item in _published(aws, function_name):
        lv = str(item["Version"])
        if lv in by_lambda:
            continue
        number = _known(store, agent, item)
        if number is None:
            code = _call(
                "GetFunction", lambda lv=lv: lam.get_function(FunctionName=function_name, Qualifier=lv)
            )
            record = release.register(
                agent,
                content_hash=_content_hash(item),
                spec={
                    "adopted_from": {"function_name": function_name, "lambda_version": lv, "region": region}
                },
                image=((code or {}).get("Code") or {}).get("ImageUri"),
                label=f"lambda:{lv}",
            )
            number = record.number
            registered[str(number)] = lv
        by_lambda[lv] = number
    if live_lv not in by_lambda:
        raise DeployError(
            "--function", f"alias {alias} points at version {live_lv}, which Lambda does not list"
        )
    mapping = {str(v): lv for lv, v in sorted(by_lambda.items(), key=lambda kv: kv[1])}
    url = (
        _call(
            "GetFunctionUrlConfig",
            lambda: lam.get_function_url_config(FunctionName=function_name, Qualifier=alias),
        )
        or {}
    ).get("FunctionUrl")
    canary_lv, weight = next(iter(weights.items())) if weights else (None, 0.0)
    details = {
        **(pointer.details if pointer else {}),
        "function_name": function_name,
        "region": region,
        "alias": alias,
        "lambda_version": live_lv,
        "canary_lambda_version": canary_lv,
        "lambda_versions": mapping,
        "adopted": pointer is None or bool(pointer.details.get("adopted")),
    }
    live, canary = by_lambda[live_lv], (by_lambda.get(str(canary_lv)) if canary_lv else None)
    before = (pointer.live_version, pointer.canary_version) if pointer else (None, None)
    if (
        pointer is None
        or pointer.live_version != live
        or (pointer.canary_version is not None and canary is None)
    ):
        pointer, _ = release.move(
            agent,
            live,
            expected_revision=pointer.revision if pointer else None,
            current=pointer or None,
            url=url,
            details=details,
        )
        if pointer.previous_version is None:  # first sight: the version before live is the way back
            older = [by_lambda[lv] for lv in by_lambda if int(lv) < int(live_lv)]
            if older:
                pointer = store.move_pointer(
                    agent, TARGET, POINTER, expected_revision=pointer.revision, previous_version=max(older)
                )
    if canary is not None and (pointer.canary_version, pointer.canary_weight) != (canary, float(weight)):
        pointer, _ = release.move(
            agent,
            canary,
            expected_revision=pointer.revision,
            current=pointer,
            canary_weight=float(weight),
            url=url,
            details=details,
        )
    if pointer.details != details or pointer.url != url:
        pointer = store.move_pointer(
            agent, TARGET, POINTER, expected_revision=pointer.revision, details=details, url=url
        )
    after = (pointer.live_version, pointer.canary_version)
    if registered or before != after:
        release.audit(
            "adopt" if before == (None, None) else "sync",
            agent,
            {
                "function_name": function_name,
                "alias": alias,
                "from": before[0],
                "to": after[0],
                "canary": after[1],
                "registered": registered,
            },
        )
    return pointer


def sync_target(target: LambdaTarget, agent: str) -> str:
    """``sync`` with the target's settings (``function_name``, ``alias``, ``region``); the region."""
    settings = target.settings
    pointer = target.store.get_pointer(agent, TARGET, POINTER)
    region = (
        settings.get("region")
        or (pointer.details.get("region") if pointer else None)
        or default_region(settings.get("session"), settings.get("profile"))
    )
    if not region:
        raise DeployError("--region", "no AWS region for --function", hint="pass --region or set AWS_REGION")
    sync(
        target.store,
        target.aws(region),
        target.actor,
        agent,
        function_name=settings["function_name"],
        alias=settings.get("alias") or "live",
        region=region,
    )
    return str(region)


def with_store_versions(status: Status) -> Status:
    """Fill ``details.versions[].version`` from the pointer's mapping for versions whose Lambda
    description is not a CLI deploy's (CDK, console)."""
    mapping = {lv: int(v) for v, lv in (status.details.get("lambda_versions") or {}).items()}
    for row in status.details.get("versions") or []:
        if row.get("version") is None:
            row["version"] = mapping.get(str(row.get("lambda_version")))
    return status
