"""Every ``${VAR}`` of the Dockfile must have a source the function can read on Lambda, checked
before any change (the plan refuses otherwise, listing each reference and where it looked):

* ``aws-sm://name``: the secret exists in Secrets Manager (metadata only: no value is read);
  with ``--push-secrets`` and a value from ``--env``/``.env``, the deploy creates or updates it
  first (the ``push_secrets`` step; the plan names the secrets, never their values);
* ``ssm://name``: the parameter exists in SSM Parameter Store (metadata only);
* ``env`` (the default): the value is already set on the function, or given with ``--env``
  (then the function must be given it: the plan warns, as before);
* ``k8s://``: not available on Lambda.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdock.errors import DeployError


@dataclass
class SourceCheck:
    push: list[str] = field(default_factory=list)  # VARs whose aws-sm secret the deploy writes
    warnings: list[str] = field(default_factory=list)


def _exists(call: Any, missing_codes: tuple[str, ...]) -> bool:
    try:
        call()
    except Exception as exc:  # botocore ClientError: only "not found" means missing
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in missing_codes:
            return False
        raise
    return True


def check_sources(
    names: set[str],
    secrets: Mapping[str, str],
    *,
    aws: Any,
    region: str,
    env_values: Mapping[str, str],
    on_function: Mapping[str, str],
    push: bool,
) -> SourceCheck:
    out = SourceCheck()
    missing: list[str] = []
    for var in sorted(names | set(secrets)):
        ref = secrets.get(var, "env") or "env"
        scheme, _, rest = ref.partition("://")
        name = rest.split("#", 1)[0]
        if ref == "env":
            if var in on_function:
                continue
            if var in env_values:
                out.warnings.append(
                    f"{var} (env) comes from --env here but is not set on the function: set it there, "
                    "or declare deploy.secrets.{var}: aws-sm://NAME and deploy with --push-secrets"
                )
                continue
            if var not in names:  # declared, not referenced by the Dockfile: the operator's business
                out.warnings.append(
                    f"deploy.secrets.{var} is `env`: set {var} on the function (deploys keep it) "
                    "or use aws-sm:// / ssm://"
                )
                continue
            missing.append(f"{var} (env): not in the function's environment, not in --env/.env")
        elif scheme == "aws-sm":
            sm = aws.client("secretsmanager")
            if _exists(lambda n=name, c=sm: c.describe_secret(SecretId=n), ("ResourceNotFoundException",)):
                if push and var in env_values:
                    out.push.append(var)
                continue
            if push and var in env_values:
                out.push.append(var)
                continue
            missing.append(
                f"{var} ({ref}): no secret {name!r} in Secrets Manager ({region})"
                + ("" if push else "; pass --push-secrets with its value in --env/.env to create it")
            )
        elif scheme == "ssm":
            ssm = aws.client("ssm")
            page = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
            if not page.get("Parameters"):
                missing.append(f"{var} ({ref}): no parameter {name!r} in SSM Parameter Store ({region})")
        else:
            missing.append(f"{var} ({ref}): {scheme}:// references cannot be read on Lambda")
    if missing:
        raise DeployError(
            "deploy.secrets",
            "these ${VAR} references have no source on Lambda (nothing was changed):\n  - "
            + "\n  - ".join(missing),
            hint="create them (aws secretsmanager create-secret / aws ssm put-parameter), "
            "or pass --push-secrets with the values in --env/.env",
        )
    return out


def push_secrets(
    aws: Any, secrets: Mapping[str, str], names: list[str], values: Mapping[str, str]
) -> list[str]:
    """Create or update the Secrets Manager secret of each name in ``names`` with its value from
    ``values``; returns the secret names written (never the values)."""
    sm = aws.client("secretsmanager")
    written = []
    for var in names:
        secret = secrets[var].partition("://")[2].split("#", 1)[0]
        if _exists(lambda s=secret, c=sm: c.describe_secret(SecretId=s), ("ResourceNotFoundException",)):
            sm.put_secret_value(SecretId=secret, SecretString=values[var])
        else:
            sm.create_secret(Name=secret, SecretString=values[var], Tags=[{"Key": "agentdock", "Value": var}])
        written.append(secret)
    return written
