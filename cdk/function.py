"""``AgentFunction``: an agent as a container-image Lambda function, alias ``live`` and function URL.

It reads the Dockfile as the CLI does and renders the build context with the CLI's own
``agentdock.build.context`` (``prepare`` + ``write_context``: no second template path), so the
image CDK builds is byte for byte the image ``agentdock build --target lambda`` describes. The
context is written under the app's output folder (``cdk.out/agentdock-contexts/...``) and is
content-addressed, so an unchanged agent keeps its asset hash and no new version is published.

Every deploy publishes a Lambda version (``current_version``, retained, so a rollback always has
somewhere to go) and points the alias at it, directly or through CodeDeploy (``deployment=``).
``agentdock rollback AGENT --target lambda --function NAME VERSION`` moves the same alias back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentdock.cdk import nag
from agentdock.cdk.deployment import Deployment, gradual_deployment
from agentdock.cdk.grants import grant_secrets, grant_store
from agentdock.cdk.settings import FunctionSettings, resolve_settings
from agentdock.cdk.table import AgentMetadataTable
from aws_cdk import Annotations, CfnOutput, Duration, RemovalPolicy, Stage
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from agentdock.build.context import prepare, write_context
from agentdock.build.flavours import InvokeMode
from agentdock.errors import CdkConfigError
from agentdock.spec import load_dockfile

CONTEXTS_DIR = "agentdock-contexts"
_ARCH = {
    "arm64": (lambda_.Architecture.ARM_64, ecr_assets.Platform.LINUX_ARM64),
    "x86_64": (lambda_.Architecture.X86_64, ecr_assets.Platform.LINUX_AMD64),
}


class AgentFunction(Construct):
    """One agent on Lambda. ``function``, ``alias`` and ``url`` are the aws-cdk-lib constructs.

    Settings come from the Dockfile's ``deploy.lambda`` block; a prop that is not None wins.
    ``image_repository`` (+ ``image_tag``) deploys an image already in ECR instead of building
    the rendered context. ``metadata_table`` (or ``store_url``, a ``dynamodb://`` URL) is the store
    the function reads, with exactly the runtime's grants.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dockfile: str | Path,
        env: Mapping[str, str] | None = None,
        function_name: str | None = None,
        memory_mb: int | None = None,
        timeout_s: int | None = None,
        architecture: str | None = None,
        reserved_concurrency: int | None = None,
        provisioned_concurrency: int | None = None,
        url_auth: str | None = None,
        environment: Mapping[str, str] | None = None,
        image_repository: ecr.IRepository | None = None,
        image_tag: str = "latest",
        metadata_table: AgentMetadataTable | None = None,
        store_url: str | None = None,
        deployment: Deployment | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        context_dir: str | Path | None = None,
        wheel: str | Path | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        check_imports: bool = False,
    ) -> None:
        super().__init__(scope, id)
        loaded = load_dockfile(
            dockfile, env=dict(env) if env else None, allow_unresolved=True, check_imports=check_imports
        )
        self.settings: FunctionSettings = resolve_settings(
            loaded.spec,
            loaded.raw,
            {
                "function_name": function_name,
                "memory_mb": memory_mb,
                "timeout_s": timeout_s,
                "architecture": architecture,
                "reserved_concurrency": reserved_concurrency,
                "provisioned_concurrency": provisioned_concurrency,
                "url_auth": url_auth,
            },
        )
        s, block = self.settings, self.settings.lambda_
        arch, platform = _ARCH[block.architecture]
        self.content_hash: str | None = None
        self.context_dir: Path | None = None
        self.store_url = self._store_url(
            loaded.spec.deploy.store if loaded.spec.deploy else None, metadata_table, store_url
        )
        if image_repository is not None:
            code = lambda_.DockerImageCode.from_ecr(image_repository, tag_or_digest=image_tag)
        else:
            code = self._render(loaded, context_dir, wheel, platform)
        env_vars = {
            **s.environment(content_hash=self.content_hash, store_url=self.store_url),
            **(environment or {}),
        }
        self._warn_env_secrets(env_vars)

        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"agentdock {s.agent}: logs, metadata store, declared secrets only",
        )
        log_group = logs.LogGroup(self, "Logs", retention=log_retention)  # kept when the stack goes
        description = f"agentdock {s.agent} {self.content_hash or image_tag}"[:256]
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            code=code,
            function_name=s.function_name,
            description=description,
            memory_size=block.memory_mb,
            timeout=Duration.seconds(block.timeout_s),
            architecture=arch,
            reserved_concurrent_executions=block.reserved_concurrency,
            environment=env_vars,
            role=role,
            log_group=log_group,
            current_version_options=lambda_.VersionOptions(
                description=description, removal_policy=RemovalPolicy.RETAIN
            ),
        )
        log_group.grant_write(role)  # the log group's ARN: its streams, no wildcard of ours
        grant_secrets(self, role, s.secret_refs)
        state = loaded.spec.state  # threads kept in the store table need the checkpoint-item grant
        store = loaded.spec.deploy.store if loaded.spec.deploy else None
        threads = state.checkpointer == "store" and state.url in (None, "", store)
        if metadata_table is not None:
            metadata_table.grant_runtime(role, threads=threads)
        elif self.store_url:
            grant_store(self, role, self.store_url, threads=threads)

        self.alias = lambda_.Alias(
            self,
            "Alias",
            alias_name=block.alias,
            version=self.function.current_version,
            provisioned_concurrent_executions=block.provisioned_concurrency,
        )
        self.url = self.alias.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType(s.url_auth),
            invoke_mode=_INVOKE_MODES[s.invoke_mode],
            cors=_cors(s.cors),
        )
        self.deployment_group: codedeploy.LambdaDeploymentGroup | None = None
        if alarms and deployment is None:
            raise CdkConfigError(
                "AgentFunction.alarms",
                "alarms roll back a gradual deployment, and none is configured",
                hint="add deployment='Canary10Percent5Minutes' (or another preset)",
            )
        if deployment is not None:
            self.deployment_group = gradual_deployment(
                self, self.alias, function_name=s.function_name, config=deployment, extra_alarms=alarms
            )
            self._acknowledge_codedeploy_role(self.deployment_group)
        CfnOutput(self, "Url", value=self.url.url, description=f"function URL of {s.agent} ({block.alias})")
        CfnOutput(self, "AliasArn", value=self.alias.function_arn, description="the alias the URL serves")
        CfnOutput(
            self, "FunctionName", value=self.function.function_name, description="for agentdock --function"
        )

    # --- pieces ---------------------------------------------------------------------------
    def _render(
        self, loaded: Any, context_dir: str | Path | None, wheel: str | Path | None, platform: Any
    ) -> lambda_.DockerImageCode:
        """Render the context with the CLI's renderer and write it where the asset reads it."""
        stage = Stage.of(self)
        if stage is None:
            raise CdkConfigError(
                "AgentFunction", "not inside a cdk App or Stage", hint="add it to a Stack of an App"
            )
        outdir = Path(stage.outdir)
        rendered = prepare(
            loaded, flavour=self.settings.flavour, wheel=wheel, skip=[outdir], store=self.store_url
        )
        digest = rendered.content_hash.split(":", 1)[-1][:12]
        target = Path(context_dir) if context_dir else outdir / CONTEXTS_DIR / rendered.agent / digest
        self.context_dir = write_context(rendered, target)
        self.content_hash = rendered.content_hash
        for note in rendered.warnings:
            Annotations.of(self).add_warning_v2("agentdock:build", note)
        return lambda_.DockerImageCode.from_image_asset(str(self.context_dir), platform=platform)

    def _store_url(
        self, dockfile_store: str | None, table: AgentMetadataTable | None, given: str | None
    ) -> str | None:
        if table is not None:
            return table.store_url
        url = given or dockfile_store
        if url and not url.startswith("dynamodb://"):
            raise CdkConfigError(
                "AgentFunction.store_url",
                f"{url.split('://', 1)[0]}:// stores are not provisioned or granted by AgentFunction",
                hint="pass metadata_table=AgentMetadataTable(...) or store_url='dynamodb://TABLE?region=...'",
            )
        return url

    def _warn_env_secrets(self, env_vars: Mapping[str, str]) -> None:
        """A ``${VAR}`` read from the environment that nothing sets fails the function at startup."""
        for var in self.settings.env_vars:
            if var not in env_vars:
                Annotations.of(self).add_warning_v2(
                    "agentdock:env-secret",
                    f"${{{var}}} resolves from the function's environment, which does not set it: "
                    f"declare deploy.secrets.{var}: aws-sm://NAME (or ssm://NAME)",
                )

    def _acknowledge_codedeploy_role(self, group: codedeploy.LambdaDeploymentGroup) -> None:
        role = group.node.try_find_child("ServiceRole")
        if role is not None:
            nag.acknowledge(
                role,
                nag.managed_policy("service-role/AWSCodeDeployRoleForLambdaLimited"),
                "CodeDeploy's own least-privilege role for Lambda deployments (alias updates, "
                "the hooks it invokes); aws-cdk-lib attaches it to the deployment group's service role",
            )

    @property
    def function_name(self) -> str:
        return self.function.function_name

    @property
    def url_invoke_mode(self) -> InvokeMode:
        return self.settings.invoke_mode


_INVOKE_MODES = {
    InvokeMode.BUFFERED: lambda_.InvokeMode.BUFFERED,
    InvokeMode.RESPONSE_STREAM: lambda_.InvokeMode.RESPONSE_STREAM,
}


def _cors(cors: Mapping[str, Any] | None) -> lambda_.FunctionUrlCorsOptions | None:
    """The Lambda API's CORS shape (``build.lambda_function.cors_config``) as CDK options."""
    if cors is None:
        return None
    return lambda_.FunctionUrlCorsOptions(
        allowed_origins=list(cors["AllowOrigins"]),
        allowed_methods=[lambda_.HttpMethod(m) for m in cors["AllowMethods"]],
        allowed_headers=list(cors["AllowHeaders"]),
        exposed_headers=list(cors["ExposeHeaders"]),
        max_age=Duration.seconds(cors["MaxAge"]),
    )
