"""Plan stage, traffic side: the health-gate route, the live alias move, the URL and its access.

Pure helpers of ``lambda_plan.build_plan``. The alias move is the plan's one ``switch`` call; the
URL, its public-access permissions and provisioned concurrency come after it (``finish``), each
with an ``undo`` when it changes something the previous version was serving with.
"""

from __future__ import annotations

from typing import Any

from agentdock.targets.lambda_.execute import FINISH, SWITCH, UNDO, Call, Ref, lam, step
from agentdock.targets.lambda_.model import URL_PERMISSION_SIDS, LambdaModel
from agentdock.targets.lambda_.observe import Observed

NO_WEIGHTS: dict[str, Any] = {"AdditionalVersionWeights": {}}
_CONFLICT = ("ResourceConflictException",)


def gate_calls(model: LambdaModel, seen: Observed, gate: str, version: int, lv: Ref) -> list[Call]:
    """``url``: the staging alias on the new version, its IAM-only URL, then GET /health through it."""
    fn, staging = model.function_name, model.staging_alias
    if gate == "none":
        return [step("gate_skipped", {"version": version}, "health gate off (--health-gate none): audited")]
    if gate != "url":
        return []
    alias = {"FunctionName": fn, "Name": staging, "FunctionVersion": lv}
    calls = [lam("create_alias" if seen.staging_alias is None else "update_alias", alias, "staging route")]
    params = {
        "FunctionName": fn,
        "Qualifier": staging,
        "AuthType": "AWS_IAM",
        "InvokeMode": model.invoke_mode.value,
    }
    url: str | Ref
    if seen.staging_url is None:
        calls.append(
            lam("create_function_url_config", params, "IAM-only URL", save={"staging_url": "FunctionUrl"})
        )
        url = Ref("staging_url")
    else:
        url = seen.staging_url["FunctionUrl"]
        if (seen.staging_url.get("InvokeMode"), seen.staging_url.get("AuthType")) != (
            params["InvokeMode"],
            "AWS_IAM",
        ):
            calls.append(lam("update_function_url_config", params, "staging URL settings"))
    calls.append(step("health_gate", {"url": url, "version": version}, "GET /health on the staging URL"))
    return calls


def switch_calls(
    model: LambdaModel,
    seen: Observed,
    version: int,
    live_version: int | None,
    canary: float,
    lv: Ref,
    diff: dict[str, Any],
) -> list[Call]:
    """The live alias: created on a first deploy, else moved (or given canary weights); the undo puts
    it back exactly as it was, weights included."""
    fn, alias = model.function_name, model.alias
    if seen.alias is None:
        diff["alias"] = {"name": alias, "change": "create", "to": lv}
        create = {
            "FunctionName": fn,
            "Name": alias,
            "FunctionVersion": lv,
            "Description": f"agentdock v{version}",
        }
        return [lam("create_alias", create, "live alias", SWITCH)]
    current = seen.alias.get("FunctionVersion")
    diff["alias"] = {"name": alias, "change": "canary" if canary else "move", "from": current, "to": lv}
    params: dict[str, Any] = {"FunctionName": fn, "Name": alias, "RevisionId": seen.alias.get("RevisionId")}
    if canary:
        diff["alias"]["weight"] = canary
        params.update(FunctionVersion=current, RoutingConfig={"AdditionalVersionWeights": {lv: canary}})
        params["Description"] = f"agentdock v{live_version} + canary v{version}"
        reason = f"send {canary:.0%} of traffic to the new version"
    else:
        params.update(FunctionVersion=lv, RoutingConfig=NO_WEIGHTS, Description=f"agentdock v{version}")
        reason = "move live to the new version"
    back = {"FunctionVersion": current, "RoutingConfig": seen.alias.get("RoutingConfig") or NO_WEIGHTS}
    return [
        lam("update_alias", params, reason, SWITCH),
        lam(
            "update_alias", {"FunctionName": fn, "Name": alias, **back}, "undo: live back where it was", UNDO
        ),
    ]


def url_calls(model: LambdaModel, seen: Observed, diff: dict[str, Any]) -> list[Call]:
    """The live URL (InvokeMode from the image flavour, AuthType, CORS) and public access to it."""
    fn, alias = model.function_name, model.alias
    want = {"AuthType": model.url_auth, "InvokeMode": model.invoke_mode.value, "Cors": model.cors or {}}
    params = {"FunctionName": fn, "Qualifier": alias, **want}
    calls: list[Call] = []
    if seen.url is None:
        diff["url"] = {"change": "create", **want}
        calls.append(
            lam(
                "create_function_url_config", params, "function URL", FINISH, save={"live_url": "FunctionUrl"}
            )
        )
    else:
        have = {
            "AuthType": seen.url.get("AuthType"),
            "InvokeMode": seen.url.get("InvokeMode") or "BUFFERED",
            "Cors": seen.url.get("Cors") or {},
        }
        fields = {k: [have[k], want[k]] for k in want if _norm(have[k]) != _norm(want[k])}
        diff["url"] = {
            "change": "update" if fields else "none",
            "url": seen.url.get("FunctionUrl"),
            "fields": fields,
        }
        if fields:
            calls.append(lam("update_function_url_config", params, "function URL settings", FINISH))
            undo = {"FunctionName": fn, "Qualifier": alias, **have}
            calls.append(lam("update_function_url_config", undo, "undo: URL settings", UNDO))
    return calls + _permission_calls(model, seen, diff)


def _permission_calls(model: LambdaModel, seen: Observed, diff: dict[str, Any]) -> list[Call]:
    """AuthType NONE needs ``lambda:InvokeFunctionUrl`` (FunctionUrlAuthType NONE) and, for URLs,
    ``lambda:InvokeFunction`` (InvokedViaFunctionUrl) for principal ``*``; AWS_IAM removes both."""
    fn, alias = model.function_name, model.alias
    public = model.url_auth == "NONE"
    missing = [sid for sid in URL_PERMISSION_SIDS if sid not in seen.policy_sids]
    present = [sid for sid in URL_PERMISSION_SIDS if sid in seen.policy_sids]
    diff["permissions"] = {
        "public": public,
        "add": missing if public else [],
        "remove": [] if public else present,
    }
    base = {"FunctionName": fn, "Qualifier": alias, "Principal": "*"}
    grants: dict[str, dict[str, Any]] = {
        URL_PERMISSION_SIDS[0]: {"Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "NONE"},
        URL_PERMISSION_SIDS[1]: {"Action": "lambda:InvokeFunction", "InvokedViaFunctionUrl": True},
    }
    if public:
        return [
            lam(
                "add_permission",
                {**base, "StatementId": sid, **grants[sid]},
                "public URL",
                FINISH,
                ok_errors=_CONFLICT,
            )
            for sid in missing
        ]
    revoke = [{"FunctionName": fn, "Qualifier": alias, "StatementId": sid} for sid in present]
    gone = ("ResourceNotFoundException",)
    return [lam("remove_permission", r, "URL is IAM-only", FINISH, ok_errors=gone) for r in revoke]


def provisioned_calls(model: LambdaModel, seen: Observed, diff: dict[str, Any]) -> list[Call]:
    """Provisioned concurrency on the alias; managed only when the Dockfile sets it."""
    want = model.provisioned_concurrency
    if want is None or want == (seen.provisioned or 0):
        return []
    diff["provisioned_concurrency"] = [seen.provisioned, want]
    target = {"FunctionName": model.function_name, "Qualifier": model.alias}
    if want == 0:
        return [lam("delete_provisioned_concurrency_config", target, "no provisioned concurrency", FINISH)]
    params = {**target, "ProvisionedConcurrentExecutions": want}
    return [lam("put_provisioned_concurrency_config", params, "provisioned concurrency", FINISH)]


def _norm(value: Any) -> Any:
    """URL settings compare without order, header case or empty members."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if v not in (None, [], False, 0)}
    if isinstance(value, list):
        return sorted(str(v).lower() for v in value)
    return value
