"""Plan stage: compare the model with what exists and list the calls that converge the two.

Pure: ``build_plan(model, observed, facts)`` does no I/O. Each resource is created when missing,
updated when it differs and left alone when equal, so re-running a plan after a failed apply
picks up exactly where that apply stopped. The diff printed by ``--dry-run --json`` names keys
of the function's environment, never values (an environment set outside AgentDock may hold
secrets).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agentdock.targets.lambda_exec import ABORT, AGENTDOCK, FINISH, PREPARE, SWITCH, UNDO, WAITER, Call, Ref
from agentdock.targets.lambda_iam import TRUST_POLICY, role_arn, role_policy
from agentdock.targets.lambda_model import ROLE_POLICY_NAME, URL_PERMISSION_SIDS, LambdaModel
from agentdock.targets.lambda_observe import Observed

from agentdock.errors import DeployConflict

MANAGED_TAG = "agentdock:agent"
NO_WEIGHTS: dict[str, Any] = {"AdditionalVersionWeights": {}}


@dataclass(frozen=True)
class Facts:
    """What was decided outside AWS: the store version, the image, the gate, the canary."""

    version: int
    reuse: bool
    image: str
    building: bool
    image_exists: bool
    gate: str  # url | preflight | none
    canary_weight: float  # 0.0 = move live fully
    pointer_revision: int | None
    live_version: int | None
    live_lambda_version: str | None
    context_dir: str
    force: bool = False


def build_plan(model: LambdaModel, seen: Observed, facts: Facts) -> tuple[tuple[Call, ...], dict[str, Any]]:
    fn, alias, n = model.function_name, model.alias, facts.version
    lv = Ref("lambda_version")
    tags = (seen.function or {}).get("Tags") or {}
    if seen.function is not None and tags.get(MANAGED_TAG) != model.agent and not facts.force:
        raise DeployConflict(
            f"deploy.lambda.function_name={fn}",
            f"a function named {fn} exists and is not managed by AgentDock for {model.agent}",
            hint="set deploy.lambda.function_name to a new name, or pass --force to take it over",
        )
    calls: list[Call] = []
    diff: dict[str, Any] = {"health_gate": facts.gate}
    if facts.gate == "preflight":
        calls.append(
            Call(AGENTDOCK, "preflight", {"context_dir": facts.context_dir}, "run the context locally")
        )

    # image: ensure the repository, build and push, unless CI gave the image
    if facts.building:
        diff["ecr_repository"] = {
            "name": model.ecr_repository,
            "change": "none" if seen.repository_uri else "create",
        }
        if not seen.repository_uri:
            calls.append(
                Call(
                    "ecr",
                    "create_repository",
                    {
                        "repositoryName": model.ecr_repository,
                        "imageTagMutability": "IMMUTABLE",
                        "imageScanningConfiguration": {"scanOnPush": True},
                        "tags": [{"Key": MANAGED_TAG, "Value": model.agent}],
                    },
                    "ECR repository for the agent's images",
                    ok_errors=("RepositoryAlreadyExistsException",),
                )
            )
        if not facts.image_exists:
            build = {
                "context_dir": facts.context_dir,
                "image": facts.image,
                "architecture": model.architecture,
            }
            calls.append(Call(AGENTDOCK, "build_image", build, "docker build + push (tag = content hash)"))
    diff["image"] = {"uri": facts.image, "build": facts.building and not facts.image_exists}
    calls.append(
        Call(
            AGENTDOCK,
            "register_version",
            {"version": n, "reuse": facts.reuse, "image": facts.image},
            "store: the version record (immutable once written)",
        )
    )

    # execution role
    role = role_arn(model, seen.account_id)
    if model.role_arn is None:
        policy = role_policy(model, seen.account_id)
        change = "create" if seen.role is None else ("none" if _same(seen.role_policy, policy) else "update")
        diff["role"] = {"arn": role, "change": change, "managed": True}
        if seen.role is None:
            calls.append(
                Call(
                    "iam",
                    "create_role",
                    {
                        "RoleName": model.role_name,
                        "AssumeRolePolicyDocument": json.dumps(TRUST_POLICY),
                        "Description": f"AgentDock execution role of {fn}",
                        "Tags": [{"Key": MANAGED_TAG, "Value": model.agent}],
                    },
                    "least-privilege execution role",
                    ok_errors=("EntityAlreadyExists",),
                )
            )
        if change != "none":
            calls.append(
                Call(
                    "iam",
                    "put_role_policy",
                    {
                        "RoleName": model.role_name,
                        "PolicyName": ROLE_POLICY_NAME,
                        "PolicyDocument": json.dumps(policy),
                    },
                    "logs, metadata-table read, declared secrets only",
                )
            )
    else:
        diff["role"] = {"arn": role, "change": "none", "managed": False}

    # the function ($LATEST), then an immutable version of it
    calls += _function_calls(model, seen, facts, role, diff)
    calls.append(
        Call(
            "lambda",
            "publish_version",
            {"FunctionName": fn, "Description": model.description(n)},
            "immutable version (returns the existing one when nothing changed)",
            save={"lambda_version": "Version", "published_env": "Environment.Variables"},
        )
    )
    calls.append(Call(WAITER, "published_version_active", {"FunctionName": fn, "Qualifier": lv}))
    calls.append(
        Call(
            AGENTDOCK,
            "verify_version",
            {"lambda_version": lv, "environment": Ref("published_env"), "version": n},
            "the published version carries this deploy's version and content hash",
        )
    )
    calls += _gate_calls(model, seen, facts, lv)

    # switch: the one call that moves traffic
    current = (seen.alias or {}).get("FunctionVersion")
    weights = (seen.alias or {}).get("RoutingConfig") or {}
    canary = facts.canary_weight if seen.alias is not None else 0.0
    if seen.alias is None:
        diff["alias"] = {"name": alias, "change": "create", "to": lv}
        if facts.canary_weight:
            diff["alias"]["note"] = "first deploy: no live version to split traffic with, canary ignored"
        switch = Call(
            "lambda",
            "create_alias",
            {"FunctionName": fn, "Name": alias, "FunctionVersion": lv, "Description": f"agentdock v{n}"},
            "live alias",
            phase=SWITCH,
        )
    else:
        target_version, routing = (
            (current, {"AdditionalVersionWeights": {lv: canary}}) if canary else (lv, NO_WEIGHTS)
        )
        diff["alias"] = {"name": alias, "change": "canary" if canary else "move", "from": current, "to": lv}
        if canary:
            diff["alias"]["weight"] = canary
        switch = Call(
            "lambda",
            "update_alias",
            {
                "FunctionName": fn,
                "Name": alias,
                "FunctionVersion": target_version,
                "RoutingConfig": routing,
                "Description": f"agentdock v{n}"
                if not canary
                else f"agentdock v{facts.live_version} + canary v{n}",
                "RevisionId": seen.alias["RevisionId"],
            },
            f"send {canary:.0%} of traffic to the new version" if canary else "move live to the new version",
            phase=SWITCH,
        )
        undo = {
            "FunctionName": fn,
            "Name": alias,
            "FunctionVersion": current,
            "RoutingConfig": weights or NO_WEIGHTS,
        }
        calls.append(Call("lambda", "update_alias", undo, "undo: live back where it was", phase=UNDO))
    calls.append(switch)
    calls += _url_calls(model, seen, diff)
    calls += _provisioned_calls(model, seen, diff)
    live_url = seen.url["FunctionUrl"] if seen.url else Ref("live_url")
    record = {
        "version": n,
        "lambda_version": lv,
        "expected_revision": facts.pointer_revision,
        "canary_weight": canary,
        "url": live_url,
        "gate": facts.gate,
        "image": facts.image,
        "role_arn": role,
        "role_created": model.role_arn is None,
    }
    calls.append(Call(AGENTDOCK, "record_deploy", record, "store: pointer, statuses, audit", phase=FINISH))
    failure = {"version": n, "mark_failed": facts.live_version != n, "gate": facts.gate}
    failure.update(failed_call=Ref("failed_call"), error=Ref("error"), undone=Ref("undone"))
    calls.append(Call(AGENTDOCK, "record_failure", failure, "store: version failed + audit", phase=ABORT))
    diff["version"] = {"store_version": n, "reuse": facts.reuse, "lambda_version": "published by the deploy"}
    if _unchanged(seen, facts, diff):
        return (), {"unchanged": True, "version": n, "lambda_version": facts.live_lambda_version}
    order = (PREPARE, SWITCH, FINISH, UNDO, ABORT)
    return tuple(sorted(calls, key=lambda c: order.index(c.phase))), diff


def _function_calls(
    model: LambdaModel, seen: Observed, facts: Facts, role: str, diff: dict[str, Any]
) -> list[Call]:
    fn = model.function_name
    config = {
        "Role": role,
        "MemorySize": model.memory_mb,
        "Timeout": model.timeout_s,
        "Environment": {"Variables": model.environment(facts.version)},
    }
    if seen.function is None:
        diff["function"] = {"name": fn, "change": "create", "invoke_mode": model.invoke_mode.value}
        create = {
            "FunctionName": fn,
            "PackageType": "Image",
            "Code": {"ImageUri": facts.image},
            "Architectures": [model.architecture],
            "Description": f"AgentDock agent {model.agent}",
            "Tags": {MANAGED_TAG: model.agent},
            **config,
        }
        return [
            Call("lambda", "create_function", create, "container-image function"),
            Call(WAITER, "function_active_v2", {"FunctionName": fn}),
            *_reserved_calls(model, seen),
        ]
    now = seen.configuration
    if now.get("PackageType") != "Image":
        raise DeployConflict(
            f"function {fn}",
            f"{fn} is a {now.get('PackageType')} function; Lambda cannot change a function's package type",
            hint="set deploy.lambda.function_name to a new name, or delete the old function",
        )
    fields: dict[str, Any] = {}
    calls: list[Call] = []
    if seen.image_uri != facts.image or (now.get("Architectures") or ["x86_64"])[0] != model.architecture:
        fields["ImageUri"] = [seen.image_uri, facts.image]
        fields["Architectures"] = [now.get("Architectures"), [model.architecture]]
        code = {"FunctionName": fn, "ImageUri": facts.image, "Architectures": [model.architecture]}
        calls += [
            Call("lambda", "update_function_code", code, "new image"),
            Call(WAITER, "function_updated_v2", {"FunctionName": fn}),
        ]
    for key in ("Role", "MemorySize", "Timeout"):
        if now.get(key) != config[key]:
            fields[key] = [now.get(key), config[key]]
    old_env = (now.get("Environment") or {}).get("Variables") or {}
    new_env = config["Environment"]["Variables"]
    if old_env != new_env:
        fields["Environment"] = {
            "added": sorted(set(new_env) - set(old_env)),
            "removed": sorted(set(old_env) - set(new_env)),
            "changed": sorted(k for k in set(old_env) & set(new_env) if old_env[k] != new_env[k]),
        }
    if set(fields) - {"ImageUri", "Architectures"}:
        calls += [
            Call("lambda", "update_function_configuration", {"FunctionName": fn, **config}, "settings"),
            Call(WAITER, "function_updated_v2", {"FunctionName": fn}),
        ]
    if model.reserved_concurrency != seen.reserved_concurrency:
        fields["ReservedConcurrentExecutions"] = [seen.reserved_concurrency, model.reserved_concurrency]
    diff["function"] = {"name": fn, "change": "update" if fields else "none", "fields": fields}
    return calls + _reserved_calls(model, seen)


def _reserved_calls(model: LambdaModel, seen: Observed) -> list[Call]:
    fn, want = model.function_name, model.reserved_concurrency
    if want == seen.reserved_concurrency:
        return []
    if want is None:
        return [
            Call("lambda", "delete_function_concurrency", {"FunctionName": fn}, "no reserved concurrency")
        ]
    params = {"FunctionName": fn, "ReservedConcurrentExecutions": want}
    return [Call("lambda", "put_function_concurrency", params, "reserved concurrency")]


def _gate_calls(model: LambdaModel, seen: Observed, facts: Facts, lv: Ref) -> list[Call]:
    fn, staging, n = model.function_name, model.staging_alias, facts.version
    if facts.gate == "none":
        return [
            Call(AGENTDOCK, "gate_skipped", {"version": n}, "health gate off (--health-gate none): audited")
        ]
    if facts.gate != "url":
        return []
    alias_params = {"FunctionName": fn, "Name": staging, "FunctionVersion": lv}
    calls = [
        Call(
            "lambda",
            "create_alias" if seen.staging_alias is None else "update_alias",
            alias_params,
            "staging route",
        )
    ]
    url_params = {
        "FunctionName": fn,
        "Qualifier": staging,
        "AuthType": "AWS_IAM",
        "InvokeMode": model.invoke_mode.value,
    }
    url: str | Ref
    if seen.staging_url is None:
        calls.append(
            Call(
                "lambda",
                "create_function_url_config",
                url_params,
                "IAM-only URL",
                save={"staging_url": "FunctionUrl"},
            )
        )
        url = Ref("staging_url")
    else:
        url = seen.staging_url["FunctionUrl"]
        if (
            seen.staging_url.get("InvokeMode") != model.invoke_mode.value
            or seen.staging_url.get("AuthType") != "AWS_IAM"
        ):
            calls.append(Call("lambda", "update_function_url_config", url_params, "staging URL settings"))
    calls.append(Call(AGENTDOCK, "health_gate", {"url": url, "version": n}, "GET /health on the staging URL"))
    return calls


def _url_calls(model: LambdaModel, seen: Observed, diff: dict[str, Any]) -> list[Call]:
    fn, alias = model.function_name, model.alias
    want = {"AuthType": model.url_auth, "InvokeMode": model.invoke_mode.value, "Cors": model.cors or {}}
    params = {"FunctionName": fn, "Qualifier": alias, **want}
    calls: list[Call] = []
    if seen.url is None:
        diff["url"] = {"change": "create", **want}
        calls.append(
            Call(
                "lambda",
                "create_function_url_config",
                params,
                "function URL",
                FINISH,
                {"live_url": "FunctionUrl"},
            )
        )
    else:
        have = {"AuthType": seen.url.get("AuthType"), "InvokeMode": seen.url.get("InvokeMode") or "BUFFERED"}
        have["Cors"] = seen.url.get("Cors") or {}
        fields = {k: [have[k], want[k]] for k in want if _norm(have[k]) != _norm(want[k])}
        diff["url"] = {
            "change": "update" if fields else "none",
            "url": seen.url.get("FunctionUrl"),
            "fields": fields,
        }
        if fields:
            calls.append(
                Call("lambda", "update_function_url_config", params, "function URL settings", FINISH)
            )
            undo = {"FunctionName": fn, "Qualifier": alias, **have}
            calls.append(Call("lambda", "update_function_url_config", undo, "undo: URL settings", UNDO))
    public = model.url_auth == "NONE"
    missing = [sid for sid in URL_PERMISSION_SIDS if sid not in seen.policy_sids]
    present = [sid for sid in URL_PERMISSION_SIDS if sid in seen.policy_sids]
    diff["permissions"] = {
        "public": public,
        "add": missing if public else [],
        "remove": [] if public else present,
    }
    base = {"FunctionName": fn, "Qualifier": alias, "Principal": "*"}
    if public and URL_PERMISSION_SIDS[0] in missing:
        grant = {
            **base,
            "StatementId": URL_PERMISSION_SIDS[0],
            "Action": "lambda:InvokeFunctionUrl",
            "FunctionUrlAuthType": "NONE",
        }
        calls.append(
            Call(
                "lambda",
                "add_permission",
                grant,
                "public URL",
                FINISH,
                ok_errors=("ResourceConflictException",),
            )
        )
    if public and URL_PERMISSION_SIDS[1] in missing:
        grant = {
            **base,
            "StatementId": URL_PERMISSION_SIDS[1],
            "Action": "lambda:InvokeFunction",
            "InvokedViaFunctionUrl": True,
        }
        calls.append(
            Call(
                "lambda",
                "add_permission",
                grant,
                "invoke via the URL",
                FINISH,
                ok_errors=("ResourceConflictException",),
            )
        )
    for sid in [] if public else present:
        revoke = {"FunctionName": fn, "Qualifier": alias, "StatementId": sid}
        calls.append(
            Call(
                "lambda",
                "remove_permission",
                revoke,
                "URL is IAM-only",
                FINISH,
                ok_errors=("ResourceNotFoundException",),
            )
        )
    return calls


def _provisioned_calls(model: LambdaModel, seen: Observed, diff: dict[str, Any]) -> list[Call]:
    want = model.provisioned_concurrency
    if want is None or want == (seen.provisioned or 0):
        return []
    diff["provisioned_concurrency"] = [seen.provisioned, want]
    fn, alias = model.function_name, model.alias
    if want == 0:
        params: dict[str, Any] = {"FunctionName": fn, "Qualifier": alias}
        return [
            Call(
                "lambda",
                "delete_provisioned_concurrency_config",
                params,
                "no provisioned concurrency",
                FINISH,
            )
        ]
    params = {"FunctionName": fn, "Qualifier": alias, "ProvisionedConcurrentExecutions": want}
    return [Call("lambda", "put_provisioned_concurrency_config", params, "provisioned concurrency", FINISH)]


def _unchanged(seen: Observed, facts: Facts, diff: dict[str, Any]) -> bool:
    """The content is live already, the alias is where the store says, and nothing else differs."""
    alias = seen.alias or {}
    return (
        not facts.force
        and facts.live_version == facts.version
        and facts.live_lambda_version is not None
        and alias.get("FunctionVersion") == facts.live_lambda_version
        and not ((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights"))
        and diff.get("role", {}).get("change") == "none"
        and diff.get("url", {}).get("change") == "none"
        and not any(diff.get("permissions", {}).get(k) for k in ("add", "remove"))
        and "ReservedConcurrentExecutions" not in diff.get("function", {}).get("fields", {})
        and "provisioned_concurrency" not in diff
    )


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _norm(value: Any) -> Any:
    """CORS/URL settings compare without order or header case."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if v not in (None, [], False, 0)}
    if isinstance(value, list):
        return sorted(str(v).lower() for v in value)
    return value
