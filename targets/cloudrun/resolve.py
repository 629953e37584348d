"""From the Dockfile, the artifact and the settings to a ``CloudRunModel``: pure, no API call.

Settings resolve in one order (STYLE habit 8): CLI flag / target setting, then ``deploy.cloudrun``,
then Application Default Credentials / gcloud's env (project, region), then the default. Every
``${VAR}`` the function needs becomes a Secret Manager reference (never a value).
"""

from __future__ import annotations

import re
from typing import Any

from agentdock.targets.base import Artifact, frozen_spec
from agentdock.targets.cloudrun.model import CloudRunModel, SecretRef

from agentdock.build.function_store import StoreReader, function_store_url
from agentdock.errors import DeployError
from agentdock.spec.models import CloudRunDeploy, DockSpec
from agentdock.spec.plainenv import function_references, plain_env

GCP_SM = "gcp-sm://"
_SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
CLOUDRUN_STORE = StoreReader(
    noun="service",
    lands_in="the revision's environment",
    example="postgresql://... or dynamodb://...",
    password_hint="use a passwordless URL (IAM auth) and keep credentials in deploy.secrets",
)


def resolve_model(
    spec: DockSpec,
    artifact: Artifact,
    *,
    image: str | None,
    project: str | None,
    region: str | None,
    store_url: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[CloudRunModel, list[str]]:
    """The model and the warnings a plan shows. ``project``/``region`` are the ADC/gcloud fallbacks;
    ``overrides`` (CLI flags) win over ``deploy.cloudrun``, which wins over them. ``store_url`` is
    the deploy's metadata store: the service reads it when the Dockfile names none
    (``function_store.function_store_url``)."""
    overrides = overrides or {}
    block = (spec.deploy.cloudrun if spec.deploy else None) or CloudRunDeploy()
    warnings: list[str] = []
    resolved_project = overrides.get("project") or block.project or project
    if not resolved_project:
        raise DeployError(
            "deploy.cloudrun.project",
            "no GCP project: none from --project, the Dockfile or Application Default Credentials",
            hint="pass --project my-project (or set deploy.cloudrun.project, or gcloud config set project)",
        )
    resolved_region = overrides.get("region") or block.region or region
    if not resolved_region:
        raise DeployError(
            "deploy.cloudrun.region",
            "no Cloud Run region: none from --region, the Dockfile or CLOUDSDK_RUN_REGION",
            hint="pass --region europe-west1 (or set deploy.cloudrun.region)",
        )
    chosen = image or artifact.image
    if not chosen:
        raise DeployError(
            "--image",
            "no image to deploy: Cloud Run runs a pushed container image",
            hint=f"build and push the context, then: agentdock deploy --target cloudrun --image "
            f"{block.registry or 'REGION-docker.pkg.dev/PROJECT/REPO'}/{spec.dns_name}@sha256:...",
        )
    if "@sha256:" not in chosen:
        warnings.append(f"image {chosen} is not pinned by digest: Cloud Run resolves the tag at deploy")
    function_store, store_warning = function_store_url(
        spec.deploy.store if spec.deploy else None, store_url, where=CLOUDRUN_STORE
    )
    if store_warning:
        warnings.append(store_warning)
    model = CloudRunModel(
        agent=spec.agent.name,
        service=overrides.get("service") or block.service or spec.dns_name,
        project=resolved_project,
        region=resolved_region,
        image=chosen,
        content_hash=artifact.content_hash,
        port=spec.expose.port,
        block=block,
        secrets=secret_refs(spec, frozen_spec(artifact, spec, target="cloudrun")),
        store_url=function_store,
        env=plain_env(spec),
        label=spec.metadata.version,
    )
    return model, warnings


def secret_refs(spec: DockSpec, raw: dict[str, Any]) -> tuple[SecretRef, ...]:
    """Every ``${VAR}`` the function needs, as a Secret Manager reference. ``gcp-sm://name[/version]``
    names it; ``env`` (and a reference not listed, which the runtime reads from env) means the
    secret of the same name. Other sources cannot be granted on Cloud Run: refused, by path."""
    declared = dict(spec.deploy.secrets) if spec.deploy else {}
    wanted: dict[str, str] = {}
    for ref in function_references(raw):
        if ref.var in declared or ref.default is None:
            wanted.setdefault(ref.var, ref.path)
    for var in declared:
        wanted.setdefault(var, f"deploy.secrets.{var}")
    found: list[SecretRef] = []
    for var, path in sorted(wanted.items()):
        source = declared.get(var, "env")
        if source == "env":
            secret, version = var, "latest"
        elif source.startswith(GCP_SM):
            secret, _, version = source[len(GCP_SM) :].partition("/")
            version = version or "latest"
        else:
            raise DeployError(
                f"deploy.secrets.{var}",
                f"{source!r} cannot be granted to a Cloud Run service",
                hint=f"keep it in Secret Manager: deploy.secrets.{var}: gcp-sm://SECRET_NAME",
            )
        if not _SECRET_ID.match(secret):
            raise DeployError(
                f"deploy.secrets.{var}",
                f"{secret!r} is not a Secret Manager secret id (A-Z a-z 0-9 - _)",
                hint=f"deploy.secrets.{var}: gcp-sm://SECRET_NAME",
            )
        found.append(SecretRef(var, secret, version, path))
    return tuple(found)
