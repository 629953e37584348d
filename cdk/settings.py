"""What ``AgentFunction`` builds, as plain data: the Dockfile's ``deploy.lambda`` block with the
construct's props laid over it (props win), the flavour and invoke mode, CORS, and the secret
references. Pure (no aws-cdk-lib import), so it is unit-tested without synthesizing anything.

Resolution order (STYLE habit 8): construct prop, then the Dockfile's ``deploy.lambda``, then the
``LambdaDeploy`` defaults, the very defaults the CLI's Lambda target uses. Props are validated by
the same pydantic model as the Dockfile block, so a bad prop fails like a bad Dockfile field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agentdock import settings as env_names
from agentdock.build.flavours import InvokeMode, flavour_for, invoke_mode_for
from agentdock.build.lambda_function import cors_config
from agentdock.errors import CdkConfigError
from agentdock.spec.models import DockSpec, LambdaDeploy
from agentdock.spec.plainenv import function_references, plain_env

# Props of AgentFunction that override a field of deploy.lambda (same names, same validation).
OVERRIDABLE = (
    "function_name",
    "memory_mb",
    "timeout_s",
    "architecture",
    "alias",
    "reserved_concurrency",
    "provisioned_concurrency",
    "url_auth",
)
SECRET_SCHEMES = {"aws-sm://": "secretsmanager", "ssm://": "ssm"}


@dataclass(frozen=True)
class SecretRef:
    """One ``deploy.secrets`` entry the function must be allowed to read."""

    var: str
    service: str  # secretsmanager | ssm
    name: str  # the secret / parameter name, or its full ARN (``is_arn``)

    @property
    def is_arn(self) -> bool:
        return self.name.startswith("arn:")


@dataclass(frozen=True)
class FunctionSettings:
    agent: str
    function_name: str
    flavour: str
    invoke_mode: InvokeMode
    lambda_: LambdaDeploy
    cors: dict[str, Any] | None
    secrets: dict[str, str]  # deploy.secrets as written (references, never values)
    secret_refs: tuple[SecretRef, ...]
    env_vars: tuple[str, ...]  # ${VAR}s resolved from the function's environment at run time
    label: str | None
    plain_env: dict[str, str] = field(default_factory=dict)  # deploy.env: plain, non-secret values

    @property
    def url_auth(self) -> str:
        """The Function URL AuthType."""
        return "AWS_IAM" if self.lambda_.url_auth == "aws_iam" else "NONE"

    def environment(self, *, content_hash: str | None, store_url: str | None) -> dict[str, str]:
        """The function's AgentDock environment: settings and secret *references*, never values
        (the same variables the CLI's Lambda target sets, minus the CLI's version number), over
        the Dockfile's plain ``deploy.env`` values."""
        env = {**self.plain_env, env_names.ENV_LWA_INVOKE_MODE: self.invoke_mode.lwa_env}
        if content_hash:
            env[env_names.ENV_CONTENT_HASH] = content_hash
        if store_url:
            env[env_names.ENV_STORE] = store_url
        if self.secrets:
            env[env_names.ENV_SECRET_REFS] = json.dumps(self.secrets, sort_keys=True, separators=(",", ":"))
        return env


def resolve_settings(
    spec: DockSpec, raw: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> FunctionSettings:
    """Lay ``overrides`` (props that are not None) over the Dockfile's ``deploy.lambda`` block."""
    block = (spec.deploy.lambda_ if spec.deploy else None) or LambdaDeploy()
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(OVERRIDABLE))
    if unknown:
        raise CdkConfigError(
            f"AgentFunction.{unknown[0]}", "not a deploy.lambda setting", hint=", ".join(OVERRIDABLE)
        )
    try:
        merged = LambdaDeploy.model_validate({**block.model_dump(exclude_none=True), **given})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise CdkConfigError(
            f"AgentFunction.{field}",
            first["msg"],
            hint="use a value the Dockfile's deploy.lambda block accepts (see dockfile-spec.md)",
        ) from None
    flavour = flavour_for("lambda", spec)
    mode = invoke_mode_for(flavour)
    assert mode is not None  # a Lambda flavour always has one
    secrets = dict(spec.deploy.secrets) if spec.deploy else {}
    return FunctionSettings(
        agent=spec.agent.name,
        function_name=merged.function_name or spec.dns_name,
        flavour=flavour,
        invoke_mode=mode,
        lambda_=merged,
        cors=cors_config(spec),
        secrets=secrets,
        secret_refs=secret_refs(secrets),
        env_vars=tuple(
            sorted({r.var for r in function_references(raw)} - set(secrets) | _env_sourced(secrets))
        ),
        label=spec.metadata.version,
        plain_env=plain_env(spec),
    )


def _env_sourced(secrets: Mapping[str, str]) -> set[str]:
    return {var for var, ref in secrets.items() if ref in ("env", "")}


def secret_refs(secrets: Mapping[str, str]) -> tuple[SecretRef, ...]:
    """The Secrets Manager / SSM references of ``deploy.secrets`` (``#json-key`` selects a field of
    the secret and is not part of its name). ``k8s://`` cannot be read by a Lambda function."""
    found: list[SecretRef] = []
    for var, ref in sorted(secrets.items()):
        if ref.startswith("k8s://"):
            raise CdkConfigError(
                f"deploy.secrets.{var}",
                f"{ref} is a Kubernetes secret; a Lambda function cannot read it",
                hint=f"store it in Secrets Manager and write {var}: aws-sm://NAME (or ssm://NAME)",
            )
        for scheme, service in SECRET_SCHEMES.items():
            if ref.startswith(scheme):
                name = ref[len(scheme) :].split("#", 1)[0]
                if not name:
                    raise CdkConfigError(
                        f"deploy.secrets.{var}", f"{ref} names no secret", hint=f"{var}: {scheme}NAME"
                    )
                found.append(SecretRef(var, service, name))
    return tuple(found)
