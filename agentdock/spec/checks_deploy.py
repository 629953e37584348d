"""Sanity of the optional ``deploy`` block (reported as 4002, with the exact path).

These are the naming rules the clouds enforce, checked before anything is built, so a bad
function name fails in ``validate`` and not halfway through a deploy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agentdock.errors import DockfileError, InvalidSchemaError
from agentdock.spec import plainenv
from agentdock.spec.context import Check, Context

LAMBDA_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LAMBDA_ALIAS = re.compile(r"^(?!\d+$)[A-Za-z0-9_-]{1,128}$")
ECR_REPOSITORY = re.compile(r"^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
AWS_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
DNS_LABEL = re.compile(r"^(?=.{1,63}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$"
)
K8S_QUANTITY = re.compile(r"^\d+(?:\.\d+)?(?:m|k|Ki|M|Mi|G|Gi|T|Ti)?$")
GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
# 49: the service name plus "-v<n>" must stay a valid revision name (DNS label, 63).
CLOUD_RUN_SERVICE = re.compile(r"^(?=.{1,49}$)[a-z](?:[-a-z0-9]*[a-z0-9])?$")
GCP_REGION = re.compile(r"^[a-z]+-[a-z]+\d{1,2}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_REF = re.compile(
    r"^(?:env|aws-sm://\S+|ssm://\S+|k8s://[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?/[-._A-Za-z0-9]+"
    r"|gcp-sm://[A-Za-z0-9_-]{1,255}(?:/(?:latest|[1-9][0-9]*))?)$"
)
STORE_URL = re.compile(r"^[a-z][a-z0-9+.-]*://")
# Knative's autoscalers: KPA scales on concurrency or rps, the HPA class on cpu or memory.
KNATIVE_METRICS = {"kpa": ("concurrency", "rps"), "hpa": ("cpu", "memory")}


def _rule(
    ctx: Context, path: str, value: str | None, rule: re.Pattern[str], what: str, hint: str | None = None
) -> Iterator[DockfileError]:
    if value is not None and ctx.known(path) and not rule.match(value):
        yield InvalidSchemaError(path, f"{value!r} is not a valid {what}", hint=hint)


def _order(
    path: str, low: int | None, high: int | None, low_name: str, high_name: str
) -> Iterator[DockfileError]:
    if low is not None and high is not None and low > high:
        yield InvalidSchemaError(path, f"{low_name} ({low}) is greater than {high_name} ({high})")


def check_store_and_secrets(ctx: Context) -> Iterator[DockfileError]:
    deploy = ctx.spec.deploy
    if deploy is None:
        return
    yield from _rule(
        ctx,
        "deploy.store",
        deploy.store,
        STORE_URL,
        "store URL",
        "sqlite:///path/agentdock.db, dynamodb://table?region=..., postgresql://...",
    )
    for var, ref in deploy.secrets.items():
        path = f"deploy.secrets.{var}"
        if not ENV_NAME.match(var):
            yield InvalidSchemaError(
                path, f"{var!r} is not an environment variable name (letters, digits, _)"
            )
        yield from _rule(
            ctx,
            path,
            ref,
            SECRET_REF,
            "secret reference",
            "use env, aws-sm://name, ssm://name, k8s://secret/key or gcp-sm://secret[/version]",
        )


def check_plain_env(ctx: Context) -> Iterator[DockfileError]:
    """``deploy.env``: valid, unreserved names, and never a secret (a name or a reference
    shared with ``deploy.secrets`` or a secret-bearing ``${VAR}`` elsewhere in the Dockfile)."""
    deploy = ctx.spec.deploy
    if deploy is None or not deploy.env:
        return
    secret_vars = set(deploy.secrets) | {
        ref.var for ref in ctx.references if not plainenv.in_plain_env(ref.path)
    }
    fix = "put secrets in deploy.secrets (deploy.env is written into function configuration)"
    for name in deploy.env:
        path = f"{plainenv.PATH}.{name}"
        if not ENV_NAME.match(name):
            yield InvalidSchemaError(
                path, f"{name!r} is not an environment variable name", hint="use [A-Za-z_][A-Za-z0-9_]*"
            )
        elif plainenv.reserved(name):
            yield InvalidSchemaError(
                path,
                f"{name} is set by AgentDock or the platform and cannot be overridden",
                hint="rename it (AGENTDOCK_*, AWS_LAMBDA_*, AWS_LWA_*, PORT, K_SERVICE... are reserved)",
            )
        elif name in secret_vars:
            yield InvalidSchemaError(
                path, f"{name} is also a secret (${{{name}}} / deploy.secrets)", hint=fix
            )
    for ref in ctx.references:
        if plainenv.in_plain_env(ref.path) and ref.var in secret_vars:
            yield InvalidSchemaError(
                ref.path,
                f"${{{ref.var}}} is a secret: its value would land in function configuration",
                hint=fix,
            )


def check_lambda(ctx: Context) -> Iterator[DockfileError]:
    block = ctx.spec.deploy.lambda_ if ctx.spec.deploy else None
    if block is None:
        return
    p = "deploy.lambda"
    yield from _rule(
        ctx,
        f"{p}.function_name",
        block.function_name,
        LAMBDA_FUNCTION_NAME,
        "Lambda function name (1-64 of A-Z a-z 0-9 - _)",
    )
    yield from _rule(
        ctx,
        f"{p}.alias",
        block.alias,
        LAMBDA_ALIAS,
        "Lambda alias name (1-128 of A-Z a-z 0-9 - _, not only digits)",
    )
    yield from _rule(
        ctx,
        f"{p}.ecr_repository",
        block.ecr_repository,
        ECR_REPOSITORY,
        "ECR repository name (lowercase, e.g. agentdock/my-agent)",
    )
    yield from _rule(ctx, f"{p}.region", block.region, AWS_REGION, "AWS region (e.g. eu-west-1)")
    yield from _rule(
        ctx,
        f"{p}.role_arn",
        block.role_arn,
        IAM_ROLE_ARN,
        "IAM role ARN (arn:aws:iam::123456789012:role/name)",
    )
    yield from _order(
        f"{p}.provisioned_concurrency",
        block.provisioned_concurrency,
        block.reserved_concurrency,
        "provisioned_concurrency",
        "reserved_concurrency",
    )


def check_knative(ctx: Context) -> Iterator[DockfileError]:
    block = ctx.spec.deploy.knative if ctx.spec.deploy else None
    if block is None:
        return
    p = "deploy.knative"
    yield from _rule(
        ctx,
        f"{p}.namespace",
        block.namespace,
        DNS_LABEL,
        "Kubernetes namespace (DNS label: lowercase a-z 0-9 -, at most 63)",
    )
    yield from _rule(
        ctx,
        f"{p}.service_account",
        block.service_account,
        DNS_SUBDOMAIN,
        "service account name (DNS subdomain)",
    )
    yield from _rule(ctx, f"{p}.cpu", block.cpu, K8S_QUANTITY, "CPU quantity (e.g. 1, 500m)")
    yield from _rule(ctx, f"{p}.memory", block.memory, K8S_QUANTITY, "memory quantity (e.g. 512Mi, 1Gi)")
    yield from _order(f"{p}.min_scale", block.min_scale, block.max_scale, "min_scale", "max_scale")
    allowed = KNATIVE_METRICS[block.autoscaling_class]
    if ctx.known(f"{p}.metric") and block.metric not in allowed:
        yield InvalidSchemaError(
            f"{p}.metric",
            f"metric {block.metric!r} does not work with autoscaling_class {block.autoscaling_class!r}",
            hint=f"use metric: {' or '.join(allowed)} (or change autoscaling_class)",
        )


def check_cloudrun(ctx: Context) -> Iterator[DockfileError]:
    block = ctx.spec.deploy.cloudrun if ctx.spec.deploy else None
    if block is None:
        return
    p = "deploy.cloudrun"
    yield from _rule(
        ctx,
        f"{p}.project",
        block.project,
        GCP_PROJECT,
        "GCP project id (6-30 of a-z 0-9 -, starts with a letter)",
    )
    yield from _rule(ctx, f"{p}.region", block.region, GCP_REGION, "Cloud Run region (e.g. europe-west1)")
    yield from _rule(ctx, f"{p}.cpu", block.cpu, K8S_QUANTITY, "CPU quantity (e.g. 1, 2)")
    yield from _rule(ctx, f"{p}.memory", block.memory, K8S_QUANTITY, "memory quantity (e.g. 512Mi)")
    yield from _rule(
        ctx,
        f"{p}.service",
        block.service,
        CLOUD_RUN_SERVICE,
        "Cloud Run service name (a-z 0-9 -, at most 49)",
    )
    yield from _order(
        f"{p}.min_instances", block.min_instances, block.max_instances, "min_instances", "max_instances"
    )


DEPLOY_CHECKS: tuple[Check, ...] = (
    check_store_and_secrets,
    check_plain_env,
    check_lambda,
    check_knative,
    check_cloudrun,
)
