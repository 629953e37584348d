"""What should exist on AWS Lambda for one agent: the model stage of the Lambda deploy.

``resolve_model`` is a pure function of the Dockfile, the build artifact and the deploy settings
(chalice's "model" stage): it reads nothing but the artifact's own files and does no AWS call. The
plan stage (``lambda_plan``) compares this model with what exists and lists the calls to make.

Settings resolve in one explicit order (STYLE habit 8): CLI flag / target setting, then the
Dockfile's ``deploy.lambda`` block, then the AWS chain (env, config files), then the default.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdock.targets.base import Artifact

from agentdock import settings as env_names
from agentdock.build.flavours import SPEC_FILE, InvokeMode, flavour_for, invoke_mode_for
from agentdock.build.function_store import function_store_url
from agentdock.build.lambda_function import LAMBDA_STORE, cors_config
from agentdock.errors import DeployError, InvokeModeMismatch
from agentdock.spec.models import DockSpec, LambdaDeploy
from agentdock.spec.plainenv import plain_env

STAGING_ALIAS = "staging"  # the qualified route the URL health gate calls before live moves
ROLE_POLICY_NAME = "agentdock-least-privilege"
URL_PERMISSION_SIDS = ("AgentDockFunctionUrlPublic", "AgentDockFunctionUrlInvoke")
DESCRIPTION_RE = re.compile(r"^agentdock v(?P<version>\d+) (?P<hash>\S+)")


@dataclass(frozen=True)
class LambdaModel:
    """The desired state of one agent on Lambda. Every field is plain data (printable in a plan)."""

    agent: str
    function_name: str
    region: str
    alias: str
    ecr_repository: str
    memory_mb: int
    timeout_s: int
    architecture: str
    invoke_mode: InvokeMode
    url_auth: str  # Function URL AuthType: NONE (application-level auth) | AWS_IAM
    cors: dict[str, Any] | None
    reserved_concurrency: int | None
    provisioned_concurrency: int | None
    role_arn: str | None  # given: used as is; None: AgentDock creates ``role_name``
    role_name: str
    content_hash: str
    store_url: str | None  # the metadata store the function reads (None: none reachable from AWS)
    secrets: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # deploy.env: plain, non-secret values
    label: str | None = None
    threads_in_store: bool = False  # LangGraph threads kept in store_url (state: {checkpointer: store})
    staging_alias: str = STAGING_ALIAS

    def environment(self, version: int) -> dict[str, str]:
        """The function's environment: ``deploy.env``, AgentDock settings and secret *references*,
        never secret values."""
        env = {
            **self.env,
            env_names.ENV_AGENT_VERSION: str(version),
            env_names.ENV_CONTENT_HASH: self.content_hash,
            env_names.ENV_LWA_INVOKE_MODE: self.invoke_mode.lwa_env,
        }
        if self.store_url:
            env[env_names.ENV_STORE] = self.store_url
        if self.secrets:
            env[env_names.ENV_SECRET_REFS] = json.dumps(self.secrets, sort_keys=True, separators=(",", ":"))
        return env

    @property
    def env_secrets(self) -> list[str]:
        """Secrets declared ``env``: their values live in the function's environment, set by the
        operator, never by AgentDock; a deploy keeps them as they are."""
        return sorted(name for name, ref in self.secrets.items() if ref in ("env", ""))

    def description(self, version: int) -> str:
        """The published Lambda version's description: it maps the Lambda version back to ours."""
        return f"agentdock v{version} {self.content_hash}"[:256]


def parse_description(text: str | None) -> tuple[int, str] | None:
    """(AgentDock version, content hash) from a version description written by ``description``."""
    match = DESCRIPTION_RE.match(text or "")
    return (int(match["version"]), match["hash"]) if match else None


def resolve_model(
    spec: DockSpec,
    artifact: Artifact,
    *,
    region: str | None,
    store_url: str | None,
    overrides: dict[str, Any] | None = None,
) -> tuple[LambdaModel, list[str]]:
    """Build the model; returns it with warnings the plan shows. ``region`` is the CLI/AWS-chain
    region (the Dockfile's ``deploy.lambda.region`` wins over the chain, a CLI flag over both)."""
    overrides = overrides or {}
    block = (spec.deploy.lambda_ if spec.deploy else None) or LambdaDeploy()
    warnings: list[str] = []
    resolved_region = overrides.get("region") or block.region or region
    if not resolved_region:
        raise DeployError(
            "deploy.lambda.region",
            "no AWS region: none in the Dockfile, the CLI or the AWS configuration",
            hint="set deploy.lambda.region: eu-west-1 (or export AWS_REGION=eu-west-1)",
        )
    function_name = overrides.get("function_name") or block.function_name or spec.dns_name
    mode = invoke_mode_for(flavour_for("lambda", spec))
    assert mode is not None  # flavour_for("lambda", ...) is always a Lambda flavour
    if spec.expose.streaming == "websocket":
        warnings.append(
            "function URLs carry no WebSockets: the function is deployed buffered (no /ws/stream)"
        )
    secrets = dict(spec.deploy.secrets) if spec.deploy else {}
    function_store, store_warning = function_store_url(
        spec.deploy.store if spec.deploy else None, store_url, where=LAMBDA_STORE
    )
    if store_warning:
        warnings.append(store_warning)
    model = LambdaModel(
        agent=spec.agent.name,
        function_name=function_name,
        region=resolved_region,
        alias=block.alias,
        ecr_repository=block.ecr_repository or f"agentdock/{spec.dns_name}",
        memory_mb=block.memory_mb,
        timeout_s=block.timeout_s,
        architecture=block.architecture,
        invoke_mode=mode,
        url_auth="AWS_IAM" if block.url_auth == "aws_iam" else "NONE",
        cors=cors_config(spec),
        reserved_concurrency=block.reserved_concurrency,
        provisioned_concurrency=block.provisioned_concurrency,
        role_arn=overrides.get("role_arn") or block.role_arn,
        role_name=f"agentdock-{function_name}"[:64],
        content_hash=artifact.content_hash,
        store_url=function_store,
        secrets=secrets,
        env=plain_env(spec),
        label=spec.metadata.version,
        threads_in_store=spec.state.checkpointer == "store"
        and spec.state.url in (None, "", spec.deploy.store if spec.deploy else None),
    )
    if model.staging_alias == model.alias:
        raise DeployError(
            "deploy.lambda.alias",
            f"alias {model.alias!r} is reserved for the health gate",
            hint="use alias: live",
        )
    return model, warnings


# --- the image's invoke mode ----------------------------------------------------------------


def dockerfile_env(text: str) -> dict[str, str]:
    """The ENV of the final stage of a Dockerfile (``ENV K=V ...`` and legacy ``ENV K V``),
    with line continuations joined; each ``FROM`` starts a fresh stage."""
    env: dict[str, str] = {}
    logical = re.sub(r"\\\r?\n", " ", text)
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            env = {}
        elif word.upper() == "ENV" and rest.strip():
            tokens = shlex.split(rest, posix=True)
            if "=" in tokens[0]:
                for token in tokens:
                    key, _, value = token.partition("=")
                    env[key] = value
            else:
                env[tokens[0]] = " ".join(tokens[1:])
    return env


def image_invoke_mode(artifact: Artifact) -> tuple[InvokeMode, str]:
    """The invoke mode the artifact's image runs with, and the evidence (for the error message)."""
    dockerfile = Path(artifact.context_dir) / "Dockerfile"
    if dockerfile.is_file():
        value = dockerfile_env(dockerfile.read_text(encoding="utf-8")).get(env_names.ENV_LWA_INVOKE_MODE)
        if value is None:
            return InvokeMode.BUFFERED, f"{dockerfile} sets no {env_names.ENV_LWA_INVOKE_MODE}"
        for mode in InvokeMode:
            if value.strip().lower() == mode.lwa_env:
                return mode, f"{dockerfile}: {env_names.ENV_LWA_INVOKE_MODE}={value}"
        raise InvokeModeMismatch(
            str(dockerfile),
            f"{env_names.ENV_LWA_INVOKE_MODE}={value!r} is not buffered|response_stream "
            "(the Lambda Web Adapter would silently fall back to buffered)",
            hint="rebuild with `agentdock build --target lambda`",
        )
    flavour_mode = invoke_mode_for(artifact.flavour)
    if flavour_mode is None:
        raise InvokeModeMismatch(
            artifact.context_dir,
            f"the artifact is flavour {artifact.flavour!r}, not a Lambda flavour, and has no Dockerfile",
            hint="rebuild with `agentdock build --target lambda`",
        )
    return flavour_mode, f"artifact flavour {artifact.flavour}"


def check_invoke_mode(artifact: Artifact, planned: InvokeMode) -> str:
    """Fail the deploy unless the image's invoke mode and the function URL's agree; returns the evidence."""
    actual, evidence = image_invoke_mode(artifact)
    if actual is not planned:
        raise InvokeModeMismatch(
            "expose.streaming",
            f"the function URL would be InvokeMode={planned.value} but the image runs {actual.value} ({evidence})",
            hint="rebuild the context for this Dockfile: `agentdock build --target lambda`",
        )
    return evidence


def frozen_spec(artifact: Artifact, spec: DockSpec) -> dict[str, Any]:
    """The spec snapshot a version records: the build context's frozen spec (``${VAR}`` references
    kept as written). Without one, the DockSpec with every secret-bearing field replaced by a marker."""
    path = Path(artifact.context_dir) / SPEC_FILE
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    data = spec.dump()
    jwt = data.get("auth", {}).get("jwt") or {}
    langfuse = data.get("observability", {}).get("langfuse") or {}
    for block, key in ((jwt, "secret_key"), (langfuse, "public_key"), (langfuse, "secret_key")):
        if block.get(key):
            block[key] = "${REDACTED}"
    return data
