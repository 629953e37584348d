"""Build and deploy as a service: validate -> build context -> store -> target plan -> apply ->
first key. The CLI's ``build``/``deploy``, the CDK construct and a dashboard all call these."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdock.targets_catalog import DEFAULT_TARGET

if TYPE_CHECKING:
    from agentdock.artifact import Artifact
    from agentdock.build.context import Rendered
    from agentdock.security.apikeys import NewKey
    from agentdock.spec import Loaded
    from agentdock.spec.models import DockSpec
    from agentdock.targets.base import Deployment, Plan

Progress = Callable[[str], None]


def _quiet(_step: str) -> None:
    pass


def load(path: Path, env: Mapping[str, str], *, target: str, dry_run: bool = False) -> Loaded:
    """Validate the Dockfile. The local target runs the function here, so its ${VAR} references
    must resolve now (except for a dry run); cloud targets and builds keep them for run time."""
    from agentdock.spec import load_dockfile

    return load_dockfile(path, env=dict(env) or None, allow_unresolved=dry_run or target != "local")


@dataclass(frozen=True)
class DeployRequest:
    """Everything ``agentdock deploy`` takes (CLI flags win over the Dockfile)."""

    dockfile: Path
    target: str | None = None  # None: the target the agent's last deploy remembered, else local
    env: Mapping[str, str] = field(default_factory=dict)
    force: bool = False
    dry_run: bool = False
    image: str | None = None
    canary: float | None = None
    health_gate: str | None = None
    port: int | None = None
    region: str | None = None
    project: str | None = None  # cloudrun: the GCP project
    endpoint_url: str | None = None
    context: str | None = None  # knative: kubeconfig context
    namespace: str | None = None  # knative: namespace (wins over deploy.knative.namespace)
    keep: int | None = None  # knative: keep the N newest revisions after a good deploy
    exclude: tuple[str, ...] = ()
    wheel: Path | None = None
    store: str | None = None
    actor: str | None = None
    base_image: str | None = None
    push_secrets: bool = False  # create/update aws-sm:// secrets from --env/.env values


@dataclass(frozen=True)
class DeployOutcome:
    loaded: Loaded
    artifact: Artifact
    plan: Plan
    result: Deployment | None  # None for a dry run
    key: NewKey | None  # the first API key, minted on the agent's first live deploy (shown once)
    warnings: tuple[str, ...]


def deploy(req: DeployRequest, *, progress: Progress = _quiet) -> DeployOutcome:
    """Plan (and unless ``dry_run``, apply) a deploy; mint the first key when it goes live."""
    from agentdock.build import artifact_for, flavour_for, prepare, write_context
    from agentdock.build.context import default_out_dir, skip_dirs
    from agentdock.ops.keys import first_key
    from agentdock.ops.manage import target_settings
    from agentdock.ops.stores import store_for, store_url_for
    from agentdock.store import actor as who
    from agentdock.targets import get_target, resolve_target_class

    req = with_remembered(req)
    assert req.target is not None
    resolve_target_class(req.target)  # unknown target: fail before any work
    progress("validate")
    loaded = load(req.dockfile, req.env, target=req.target, dry_run=req.dry_run)
    flavour = flavour_for(req.target, loaded.spec)
    progress(f"build ({flavour})")
    rendered = prepare(
        loaded,
        flavour=flavour,
        exclude=list(req.exclude),
        wheel=req.wheel,
        skip=skip_dirs(None),
        base_image=req.base_image,
        store=store_url_for(req.store, loaded.spec, req.target),  # its driver goes in the image
    )
    # Written even for a dry run: a local, content-addressed cache that targets' plans may read.
    folder = write_context(rendered, default_out_dir(rendered.agent, flavour, rendered.content_hash))
    artifact = artifact_for(rendered, folder, req.image)
    meta = store_for(req.store, loaded.spec, req.target, create=not req.dry_run, plan_only=req.dry_run)
    actor = who(req.actor)
    tgt = get_target(
        req.target,
        store=meta,
        progress=progress,
        env=dict(req.env),
        actor=actor,
        **target_settings(
            req.region, req.endpoint_url, context=req.context, namespace=req.namespace, project=req.project
        ),
    )
    options: dict[str, Any] = {"force": req.force, "dockfile": str(req.dockfile.resolve())}
    if req.push_secrets:
        options["push_secrets"] = True
    asked = {
        "port": req.port,
        "image_uri": req.image,
        "canary": req.canary,
        "health_gate": req.health_gate,
        "keep": req.keep,
    }
    options |= {k: v for k, v in asked.items() if v is not None}
    plan = tgt.plan(loaded.spec, artifact, **options)
    warnings = tuple(rendered.warnings)
    if req.dry_run:
        return DeployOutcome(loaded, artifact, plan, None, None, warnings)
    result = tgt.apply(plan)
    key = first_key(meta, loaded.spec, actor) if result.status == "live" else None
    if result.status in ("live", "unchanged", "canary"):
        _remember(req, loaded.spec, result)
    return DeployOutcome(loaded, artifact, plan, result, key, warnings)


def agent_name_of(dockfile: Path) -> str | None:
    """The Dockfile's agent.name, read without validating (None when it cannot be read)."""
    from agentdock.spec.yamlio import read_document

    data = read_document(dockfile).data
    agent = data.get("agent") if isinstance(data, dict) else None
    name = agent.get("name") if isinstance(agent, dict) else None
    return name if isinstance(name, str) else None


def with_remembered(req: DeployRequest) -> DeployRequest:
    """Fill what the request leaves open from the agent's remembered settings: the target, the
    store, region and endpoint, and (local) the port, unless the Dockfile names one."""
    from dataclasses import replace

    from agentdock.ops.remembered import where

    name = agent_name_of(req.dockfile)
    if name is None:
        return replace(req, target=req.target or DEFAULT_TARGET)
    w = where(
        name,
        target=req.target,
        store=req.store,
        region=req.region,
        endpoint_url=req.endpoint_url,
        context=req.context,
    )
    port = req.port
    if port is None and w.target == "local" and not _dockfile_port(req.dockfile):
        port = w.port
    return replace(
        req,
        target=w.target,
        store=w.store,
        region=w.region,
        endpoint_url=w.endpoint_url,
        context=w.context,
        port=port,
    )


def _dockfile_port(dockfile: Path) -> bool:
    from agentdock.spec.yamlio import read_document

    data = read_document(dockfile).data
    deploy = data.get("deploy") if isinstance(data, dict) else None
    local = deploy.get("local") if isinstance(deploy, dict) else None
    return isinstance(local, dict) and local.get("port") is not None


def _remember(req: DeployRequest, spec: DockSpec, result: Deployment) -> None:
    import os
    from urllib.parse import urlparse

    from agentdock.ops.remembered import remember
    from agentdock.settings import ENV_STORE

    port = urlparse(result.url).port if req.target == "local" and result.url else None
    function = result.details.get("function_name") if isinstance(result.details, dict) else None
    cloud_store = spec.deploy.store if spec.deploy and req.target != "local" else None
    remember(
        spec.agent.name,
        target=req.target,
        store=req.store or cloud_store or os.environ.get(ENV_STORE),
        region=req.region,
        endpoint_url=req.endpoint_url,
        context=req.context,
        port=port,
        function_name=function if isinstance(function, str) else None,
    )


@dataclass(frozen=True)
class BuildOutcome:
    rendered: Rendered
    flavour: str
    folder: Path
    artifact: Artifact
    image: str | None  # the tag built, None when not built
    note: str  # why (not) an image
    notes: tuple[str, ...] = ()  # what a target wrote beside the context (Cloud Run's service.yaml)


def build(
    dockfile: Path,
    *,
    target: str = DEFAULT_TARGET,
    env: Mapping[str, str] | None = None,
    out: Path | None = None,
    image: str | None = None,
    exclude: tuple[str, ...] = (),
    wheel: Path | None = None,
    quiet: bool = False,
    progress: Progress = _quiet,
    base_image: str | None = None,
    store: str | None = None,
) -> BuildOutcome:
    """Render the deterministic build context for ``target`` (and build ``image`` when an engine runs).
    ``store`` is the store a deploy would use (``--store``, else the agent's remembered one for this
    target, else as ``ops.stores.store_url_for``): the image carries the driver of the store the
    function reads, so a build and a deploy render the same context."""
    from agentdock.build import artifact_for, flavour_for, prepare, write_context
    from agentdock.build.builder import build_image, detect_builder
    from agentdock.build.context import default_out_dir, skip_dirs
    from agentdock.ops.remembered import where
    from agentdock.ops.stores import store_url_for

    progress("validate")
    loaded = load(dockfile, env or {}, target="build")
    flavour = flavour_for(target, loaded.spec)
    deploy_store = store_url_for(
        where(loaded.spec.agent.name, target=target, store=store).store, loaded.spec, target
    )
    progress(f"build ({flavour})")
    rendered = prepare(
        loaded,
        flavour=flavour,
        exclude=list(exclude),
        wheel=wheel,
        skip=skip_dirs(out),
        base_image=base_image,
        store=deploy_store,
    )
    folder = write_context(rendered, out or default_out_dir(rendered.agent, flavour, rendered.content_hash))
    if target == "knative":  # service.yaml beside the Dockerfile (outside the content hash)
        from agentdock.targets.knative.manifest import write_service_yaml

        write_service_yaml(folder, loaded, rendered.content_hash, image, deploy_store)
    built, note = None, "no image requested (pass --image TAG)"
    if image:
        found = detect_builder()
        if found.builder is None:
            note = f"NOT built, only the build context was produced ({found.reason})"
        else:
            from agentdock.build.flavours import LOCAL, platform_for

            platform = (
                platform_for(flavour, loaded.spec, base_image).docker_platform if flavour != LOCAL else None
            )
            progress(f"image ({found.builder.name})")
            built = build_image(found.builder, folder, image, platform=platform, quiet=quiet)
            note = f"built and tagged {image} with {found.builder.name}"
    artifact = artifact_for(rendered, folder, built)
    notes = _target_files(target, loaded, artifact, folder, image, deploy_store)
    return BuildOutcome(rendered, flavour, folder, artifact, built, note, notes)


def _target_files(
    target: str, loaded: Loaded, artifact: Artifact, folder: Path, image: str | None, store: str | None
) -> tuple[str, ...]:
    """Files a target adds beside the context (outside its content hash): Cloud Run's service.yaml."""
    if target != "cloudrun":
        return ()
    from agentdock.targets.cloudrun.manifest import FILE_NAME, build_manifest

    text, notes = build_manifest(loaded.spec, artifact, image, store)
    (folder / FILE_NAME).write_text(text, encoding="utf-8")
    return (f"wrote {folder / FILE_NAME} (gcloud run services replace)", *notes)
