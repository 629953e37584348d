"""The environment a target gives the function, as the preflight needs it.

Only what the target would set: the plain ``deploy.env`` values, the store URL the function reads, the values of ``${VAR}``
references whose source is ``env`` (taken from ``--env`` / the ``.env`` beside the Dockfile,
never from the operator's shell), and, where the function reads AWS (a DynamoDB store,
``aws-sm://``/``ssm://`` secrets), the credentials and endpoint the execution role would give it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdock.settings import ENV_AWS_ENDPOINT_URL, ENV_STORE
from agentdock.spec.models import DockSpec
from agentdock.spec.plainenv import function_references, plain_env


@dataclass
class TargetEnv:
    env: dict[str, str] = field(default_factory=dict)
    secret_names: set[str] = field(default_factory=set)  # names whose values are never printed
    missing: list[str] = field(default_factory=list)  # ${VAR} with an env source and no value


def references(raw: Mapping[str, Any]) -> set[str]:
    """Every ``${VAR}`` name the running function resolves (``deploy.env``'s are set plain)."""
    return {ref.var for ref in function_references(dict(raw))}


def target_env(
    raw: Mapping[str, Any],
    *,
    values: Mapping[str, str],
    store_url: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    aws: bool = False,
    spec: DockSpec | None = None,
) -> TargetEnv:
    out = TargetEnv(env=plain_env(spec) if spec is not None else {})
    sources = ((raw.get("deploy") or {}).get("secrets")) or {}
    for name in sorted(references(raw)):
        source = sources.get(name, "env")
        out.secret_names.add(name)
        if source != "env":
            continue  # the function resolves it from its source (aws-sm://, ssm://, k8s://)
        if name in values:
            out.env[name] = values[name]
        else:
            out.missing.append(name)
    if store_url:
        out.env[ENV_STORE] = store_url
    if aws:
        out.env |= aws_credentials()
        out.secret_names |= {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
        if region:
            out.env["AWS_REGION"] = out.env["AWS_DEFAULT_REGION"] = region
        if endpoint_url:
            out.env[ENV_AWS_ENDPOINT_URL] = endpoint_url
    return out


def aws_credentials() -> dict[str, str]:
    """The credentials the function's execution role stands for here (the deployer's own)."""
    try:
        import boto3

        creds = boto3.Session().get_credentials()
    except Exception:
        creds = None
    if creds is None:
        return {}
    frozen = creds.get_frozen_credentials()
    env = {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    return env
