"""Plan stage: compare the model with what exists and list the calls that converge the two.

Pure: ``build_plan(model, observed, facts)`` does no I/O. Each resource is created when missing,
updated when it differs and left alone when equal, so re-running a plan after a failed apply
picks up exactly where that apply stopped. The diff printed by ``--dry-run --json`` names keys
of the function's environment, never values (an environment set outside AgentDock may hold
secrets). The traffic side (gate route, alias, URL) is in ``lambda_routes``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agentdock.targets.lambda_.execute import ABORT, FINISH, PREPARE, SWITCH, UNDO, Call, Ref, lam, step, wait
from agentdock.targets.lambda_.iam import TRUST_POLICY, role_arn, role_policy
from agentdock.targets.lambda_.model import ROLE_POLICY_NAME, LambdaModel
from agentdock.targets.lambda_.observe import Observed
from agentdock.targets.lambda_.routes import gate_calls, provisioned_calls, switch_calls, url_calls

from agentdock.errors import DeployConflict

MANAGED_TAG = "agentdock:agent"
PHASE_ORDER = (PREPARE, SWITCH, FINISH, UNDO, ABORT)


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
    """The calls of one deploy, in phase order, and the diff against what exists."""
    tags = (seen.function or {}).get("Tags") or {}
    if seen.function is not None and tags.get(MANAGED_TAG) != model.agent and not facts.force:
        raise DeployConflict(
            f"deploy.lambda.function_name={model.function_name}",
            f"a function named {model.function_name} exists and is not managed by AgentDock for {model.agent}",
            hint="set deploy.lambda.function_name to a new name, or pass --force to take it over",
        )
    n, lv = facts.version, Ref("lambda_version")
    diff: dict[str, Any] = {"health_gate": facts.gate}
    calls: list[Call] = []
    if facts.gate == "preflight":
        calls.append(step("preflight", {"context_dir": facts.context_dir}, "run the context locally first"))
    calls += _image_calls(model, seen, facts, diff)
    register = {"version": n, "reuse": facts.reuse, "image": facts.image}
    calls.append(step("register_version", register, "store: the version record (immutable once written)"))
    role = role_arn(model, seen.account_id)
    calls += _role_calls(model, seen, role, diff)
    calls += _function_calls(model, seen, facts, role, diff)
    published = {"lambda_version": "Version", "published_env": "Environment.Variables"}
    publish = {"FunctionName": model.function_name, "Description": model.description(n)}
    calls.append(
        lam(
            "publish_version",
            publish,
            "immutable version (the same one when nothing changed)",
            save=published,
        )
    )
    calls.append(wait("published_version_active", {"FunctionName": model.function_name, "Qualifier": lv}))
    verify = {"lambda_version": lv, "environment": Ref("published_env"), "version": n}
    calls.append(
        step("verify_version", verify, "the published version carries this deploy's number and hash")
    )
    calls += gate_calls(model, seen, facts.gate, n, lv)
    canary = facts.canary_weight if seen.alias is not None else 0.0
    calls += switch_calls(model, seen, n, facts.live_version, canary, lv, diff)
    if facts.canary_weight and seen.alias is None:
        diff["alias"]["note"] = "first deploy: no live version to split traffic with, canary ignored"
    calls += url_calls(model, seen, diff)
    calls += provisioned_calls(model, seen, diff)
    record = {
        "version": n,
        "lambda_version": lv,
        "expected_revision": facts.pointer_revision,
        "canary_weight": canary,
        "url": seen.url["FunctionUrl"] if seen.url else Ref("live_url"),
        "gate": facts.gate,
        "image": facts.image,
        "role_arn": role,
        "role_created": model.role_arn is None,
    }
    saved = {"previous_version": "previous_version"}
    calls.append(
        step("record_deploy", record, "store: pointer (compare-and-set), statuses, audit", FINISH, save=saved)
    )
    failure = {"version": n, "mark_failed": facts.live_version != n, "gate": facts.gate}
    failure.update(failed_call=Ref("failed_call"), error=Ref("error"), undone=Ref("undone"))
    calls.append(step("record_failure", failure, "store: version failed + audit", ABORT))
    diff["version"] = {"store_version": n, "reuse": facts.reuse, "lambda_version": "published by the deploy"}
    if _unchanged(seen, facts, diff):
        return (), {"unchanged": True, "version": n, "lambda_version": facts.live_lambda_version}
    return tuple(sorted(calls, key=lambda c: PHASE_ORDER.index(c.phase))), diff


def _image_calls(model: LambdaModel, seen: Observed, facts: Facts, diff: dict[str, Any]) -> list[Call]:
    """Ensure the repository and build + push, unless CI gave the image (or it is pushed already)."""
    diff["image"] = {"uri": facts.image, "build": facts.building and not facts.image_exists}
    if not facts.building:
        return []
    diff["ecr_repository"] = {
        "name": model.ecr_repository,
        "change": "none" if seen.repository_uri else "create",
    }
    calls = []
    if not seen.repository_uri:
        repository = {
            "repositoryName": model.ecr_repository,
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
            "tags": [{"Key": MANAGED_TAG, "Value": model.agent}],
        }
        exists = ("RepositoryAlreadyExistsException",)
        calls.append(
            Call("ecr", "create_repository", repository, "the agent's image repository", ok_errors=exists)
        )
    if not facts.image_exists:
        build = {"context_dir": facts.context_dir, "image": facts.image, "architecture": model.architecture}
        calls.append(step("build_image", build, "build + push (tag = content hash)"))
    return calls


def _role_calls(model: LambdaModel, seen: Observed, role: str, diff: dict[str, Any]) -> list[Call]:
    """The created execution role and its inline least-privilege policy (kept equal to the model)."""
    if model.role_arn is not None:
        diff["role"] = {"arn": role, "change": "none", "managed": False}
        return []
    policy = role_policy(model, seen.account_id)
    same = json.dumps(seen.role_policy, sort_keys=True) == json.dumps(policy, sort_keys=True)
    change = "create" if seen.role is None else ("none" if same else "update")
    diff["role"] = {"arn": role, "change": change, "managed": True}
    calls = []
    if seen.role is None:
        create = {
            "RoleName": model.role_name,
            "AssumeRolePolicyDocument": json.dumps(TRUST_POLICY),
            "Description": f"AgentDock execution role of {model.function_name}",
            "Tags": [{"Key": MANAGED_TAG, "Value": model.agent}],
        }
        exists = ("EntityAlreadyExists",)
        calls.append(Call("iam", "create_role", create, "least-privilege execution role", ok_errors=exists))
    if change != "none":
        document = {
            "RoleName": model.role_name,
            "PolicyName": ROLE_POLICY_NAME,
            "PolicyDocument": json.dumps(policy),
        }
        calls.append(
            Call("iam", "put_role_policy", document, "logs, metadata-table read, declared secrets only")
        )
    return calls


def _function_calls(
    model: LambdaModel, seen: Observed, facts: Facts, role: str, diff: dict[str, Any]
) -> list[Call]:
    """$LATEST: created, or its image / settings updated (each update waited for)."""
    fn = model.function_name
    env = model.environment(facts.version)
    config = {
        "Role": role,
        "MemorySize": model.memory_mb,
        "Timeout": model.timeout_s,
        "Environment": {"Variables": env},
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
        created = [
            lam("create_function", create, "container-image function"),
            wait("function_active_v2", {"FunctionName": fn}),
        ]
        return created + _reserved_calls(model, seen)
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
        fields.update(
            ImageUri=[seen.image_uri, facts.image],
            Architectures=[now.get("Architectures"), [model.architecture]],
        )
        code = {"FunctionName": fn, "ImageUri": facts.image, "Architectures": [model.architecture]}
        calls += [
            lam("update_function_code", code, "new image"),
            wait("function_updated_v2", {"FunctionName": fn}),
        ]
    fields.update(
        {k: [now.get(k), config[k]] for k in ("Role", "MemorySize", "Timeout") if now.get(k) != config[k]}
    )
    old_env = (now.get("Environment") or {}).get("Variables") or {}
    kept = [k for k in model.env_secrets if k in old_env]  # compared here, read at apply time only
    if old_env != {**env, **{k: old_env[k] for k in kept}}:
        fields["Environment"] = {
            "added": sorted(set(env) - set(old_env)),
            "removed": sorted(set(old_env) - set(env) - set(kept)),
            "changed": sorted(k for k in set(old_env) & set(env) if old_env[k] != env[k]),
            "kept": kept,
        }
    if set(fields) - {"ImageUri", "Architectures"}:
        if kept:  # values of env secrets never enter the plan: the executor reads them when it runs
            merge = {"function": fn, "managed": env, "keep": kept}
            calls.append(
                step(
                    "merge_env", merge, "keep the env secrets set on the function", save={"env": "variables"}
                )
            )
            config = {**config, "Environment": {"Variables": Ref("env")}}
        update = {"FunctionName": fn, **config}
        calls += [
            lam("update_function_configuration", update, "settings"),
            wait("function_updated_v2", {"FunctionName": fn}),
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
        return [lam("delete_function_concurrency", {"FunctionName": fn}, "no reserved concurrency")]
    return [
        lam(
            "put_function_concurrency", {"FunctionName": fn, "ReservedConcurrentExecutions": want}, "reserved"
        )
    ]


def _unchanged(seen: Observed, facts: Facts, diff: dict[str, Any]) -> bool:
    """The content is live already, the alias is where the store says, and nothing else differs."""
    alias = seen.alias or {}
    return (
        not facts.force
        and facts.live_version == facts.version
        and facts.live_lambda_version is not None
        and alias.get("FunctionVersion") == facts.live_lambda_version
        and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
        and diff.get("role", {}).get("change") == "none"
        and diff.get("url", {}).get("change") == "none"
        and not any(diff.get("permissions", {}).get(k) for k in ("add", "remove"))
        and "ReservedConcurrentExecutions" not in diff.get("function", {}).get("fields", {})
        and "provisioned_concurrency" not in diff
    )
