"""``deploy.env``: plain, non-secret values every target sets in the function's environment.

They are written into function configuration (Lambda environment, the Knative/Cloud Run
container env, the local process, the CDK template) and shown in plans, so they must never
carry a secret. A value may hold ``${VAR}``: a deploy resolves it from ``--env``, the
environment, ``.env`` (the loaded spec), and the running function never re-resolves it. So
``deploy.env`` references are not function references: ``function_references`` leaves them out
(no target wires a secret source for them) and ``without_plain_env`` drops the block before the
runtime resolves the frozen spec.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from agentdock.errors import DeployError
from agentdock.spec.interpolate import Reference, references
from agentdock.spec.models import DockSpec

PATH = "deploy.env"
# Names a platform or AgentDock itself sets: a Dockfile value there would break or shadow it.
RESERVED_PREFIXES = ("AGENTDOCK_", "AWS_LAMBDA_", "AWS_LWA_", "LAMBDA_", "_X_AMZN_", "AWS_XRAY_")
RESERVED_NAMES = frozenset(
    {
        "PORT",
        "K_SERVICE",
        "K_REVISION",
        "K_CONFIGURATION",
        "CLOUD_RUN_JOB",
        "_HANDLER",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
    }
)
_UNRESOLVED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}")


def reserved(name: str) -> bool:
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def in_plain_env(path: str) -> bool:
    return path == PATH or path.startswith(PATH + ".")


def function_references(raw: Any) -> list[Reference]:
    """The ``${VAR}`` references the running function resolves (all but ``deploy.env``'s)."""
    return [ref for ref in references(raw) if not in_plain_env(ref.path)]


def without_plain_env(raw: dict[str, Any]) -> dict[str, Any]:
    """The frozen spec without ``deploy.env``: its values are already in the environment."""
    deploy = raw.get("deploy")
    if not isinstance(deploy, dict) or "env" not in deploy:
        return raw
    out = copy.copy(raw)
    out["deploy"] = {k: v for k, v in deploy.items() if k != "env"}
    return out


def plain_env(spec: DockSpec) -> dict[str, str]:
    """``deploy.env`` as every target sets it (resolved at load); refuses an unresolved value
    before any change, since the function would otherwise receive ``${VAR}`` literally."""
    env = dict(spec.deploy.env) if spec.deploy else {}
    for name, value in sorted(env.items()):
        match = _UNRESOLVED.search(value)
        if match:
            var = match.group(0)[2:].split("}")[0].split(":-")[0]
            raise DeployError(
                f"{PATH}.{name}",
                f"{match.group(0)} is not set (looked in --env, the environment, .env beside the Dockfile)",
                hint=f"pass --env {var}=... or add {var}=... to .env (deploy.env holds no secrets)",
            )
    return dict(sorted(env.items()))
