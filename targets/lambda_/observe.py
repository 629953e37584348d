"""What exists on AWS now: read-only describe calls only (safe under ``--dry-run``).

The plan compares this snapshot with the model. "Not found" is a normal answer here (a first
deploy); any other error is reported as the call that failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentdock.targets.lambda_.aws import AwsApi, cloud_error, is_not_found
from agentdock.targets.lambda_.model import ROLE_POLICY_NAME, LambdaModel


@dataclass(frozen=True)
class Observed:
    account_id: str
    repository_uri: str | None = None  # None: missing (only looked up when building here)
    role: dict[str, Any] | None = None  # only looked up when AgentDock manages the role
    role_policy: dict[str, Any] | None = None
    function: dict[str, Any] | None = None  # GetFunction: Configuration, Code, Concurrency
    alias: dict[str, Any] | None = None
    staging_alias: dict[str, Any] | None = None
    url: dict[str, Any] | None = None
    staging_url: dict[str, Any] | None = None
    policy_sids: frozenset[str] = field(default_factory=frozenset)
    provisioned: int | None = None

    @property
    def configuration(self) -> dict[str, Any]:
        return (self.function or {}).get("Configuration", {})

    @property
    def image_uri(self) -> str | None:
        return (self.function or {}).get("Code", {}).get("ImageUri")

    @property
    def reserved_concurrency(self) -> int | None:
        value = (self.function or {}).get("Concurrency", {}).get("ReservedConcurrentExecutions")
        return int(value) if value is not None else None


def _maybe(service: str, operation: str, call: Callable[[], Any]) -> Any:
    """The call's answer, or None when the resource does not exist."""
    try:
        return call()
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise cloud_error(service, operation, exc) from exc


def _strip(response: dict[str, Any] | None) -> dict[str, Any] | None:
    if response is None:
        return None
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def observe(aws: AwsApi, model: LambdaModel, *, building: bool, url_gate: bool) -> Observed:
    """Describe everything the plan may touch (and nothing it will not)."""
    lam, fn = aws.lambda_, model.function_name
    repository_uri = role = role_policy = None
    if building:
        found = _maybe(
            "ecr",
            "DescribeRepositories",
            lambda: aws.ecr.describe_repositories(repositoryNames=[model.ecr_repository])["repositories"],
        )
        repository_uri = found[0]["repositoryUri"] if found else None
    if model.role_arn is None:
        role = _maybe("iam", "GetRole", lambda: aws.iam.get_role(RoleName=model.role_name)["Role"])
        if role is not None:
            got = _maybe(
                "iam",
                "GetRolePolicy",
                lambda: aws.iam.get_role_policy(RoleName=model.role_name, PolicyName=ROLE_POLICY_NAME),
            )
            document = got["PolicyDocument"] if got else None
            role_policy = json.loads(document) if isinstance(document, str) else document
    function = _strip(_maybe("lambda", "GetFunction", lambda: lam.get_function(FunctionName=fn)))
    if function is None:
        return Observed(aws.account_id(), repository_uri, role, role_policy)
    alias = _strip(_maybe("lambda", "GetAlias", lambda: lam.get_alias(FunctionName=fn, Name=model.alias)))
    staging = url = staging_url = None
    if url_gate:
        staging = _strip(
            _maybe("lambda", "GetAlias", lambda: lam.get_alias(FunctionName=fn, Name=model.staging_alias))
        )
        if staging is not None:
            staging_url = _strip(
                _maybe(
                    "lambda",
                    "GetFunctionUrlConfig",
                    lambda: lam.get_function_url_config(FunctionName=fn, Qualifier=model.staging_alias),
                )
            )
    sids: frozenset[str] = frozenset()
    if alias is not None:
        url = _strip(
            _maybe(
                "lambda",
                "GetFunctionUrlConfig",
                lambda: lam.get_function_url_config(FunctionName=fn, Qualifier=model.alias),
            )
        )
        policy = _maybe("lambda", "GetPolicy", lambda: lam.get_policy(FunctionName=fn, Qualifier=model.alias))
        if policy:
            sids = frozenset(s.get("Sid", "") for s in json.loads(policy["Policy"]).get("Statement", []))
    provisioned = None
    if model.provisioned_concurrency is not None and alias is not None:
        got = _maybe(
            "lambda",
            "GetProvisionedConcurrencyConfig",
            lambda: lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier=model.alias),
        )
        provisioned = int(got["RequestedProvisionedConcurrentExecutions"]) if got else None
    return Observed(
        account_id=aws.account_id(),
        repository_uri=repository_uri,
        role=role,
        role_policy=role_policy,
        function=function,
        alias=alias,
        staging_alias=staging,
        url=url,
        staging_url=staging_url,
        policy_sids=sids,
        provisioned=provisioned,
    )
