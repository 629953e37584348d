"""build, deploy, rollback, promote, status, logs, destroy.

Each command parses, calls the deploy service (agentdock.ops), and prints through
agentdock.cli.output. Heavy imports stay inside the functions so `agentdock --help` is fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from agentdock.cli import deploy_support as S
from agentdock.cli.output import EXIT_USAGE, emit, fail, progress
from agentdock.targets_catalog import DEFAULT_TARGET, TARGET_NAMES

FILE_ARG = typer.Argument(Path("Dockfile.yaml"), help="The Dockfile (default ./Dockfile.yaml).")
JSON_OPT = typer.Option(False, "--json", help="Print one JSON object instead of text.")
STORE_OPT = typer.Option(
    None, "--store", help="Metadata store URL (default: $AGENTDOCK_STORE, else SQLite in AGENTDOCK_HOME)."
)
TARGET_OPT = typer.Option(
    None,
    "--target",
    "-t",
    help=f"Deploy target: {', '.join(TARGET_NAMES)} or an installed plug-in (default: where the agent "
    "was last deployed from here, else local).",
)
ACTOR_OPT = typer.Option(
    None, "--actor", help="Who is acting, for the audit log (default $AGENTDOCK_ACTOR or the OS user)."
)
ENV_OPT = typer.Option(
    [], "--env", "-e", help="KEY=VALUE for ${VAR} references (repeatable; never written to disk)."
)
EXCLUDE_OPT = typer.Option(
    [], "--exclude", help="Extra .dockerignore-style pattern to leave out of the context (repeatable)."
)
REGION_OPT = typer.Option(None, "--region", help="Cloud targets: region (wins over the Dockfile).")
ENDPOINT_OPT = typer.Option(
    None, "--endpoint-url", help="Cloud targets: API endpoint (an emulator, e.g. moto)."
)
CONTEXT_OPT = typer.Option(
    None, "--context", help="knative: kubeconfig context (default: the current one; in a pod: in-cluster)."
)
NAMESPACE_OPT = typer.Option(None, "--namespace", "-n", help="knative: namespace (wins over the Dockfile).")
WHEEL_OPT = typer.Option(
    None,
    "--wheel",
    help="agentdock wheel the image carries instead of one built from this installation ($AGENTDOCK_WHEEL).",
)
BASE_IMAGE_OPT = typer.Option(
    None,
    "--base-image",
    help="Image flavours: base image instead of the default (its tag must name its Python, e.g. python:3.11.14-slim-bookworm).",
)


def build(
    file: Path = FILE_ARG,
    target: str = typer.Option(
        DEFAULT_TARGET, "--target", "-t", help=f"Flavour for this target: {', '.join(TARGET_NAMES)}."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Write the context here (default: content-addressed under AGENTDOCK_HOME/contexts).",
    ),
    image: str | None = typer.Option(
        None, "--image", help="Also build and tag this image, when a container engine works."
    ),
    exclude: list[str] = EXCLUDE_OPT,
    wheel: Path | None = WHEEL_OPT,
    base_image: str | None = BASE_IMAGE_OPT,
    store: str | None = typer.Option(
        None,
        "--store",
        help="The store the deploy will use (default: as deploy picks it); its driver goes into the image.",
    ),
    env: list[str] = ENV_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Render a deterministic build context (Dockerfile, entry module, frozen spec, source, pinned requirements)."""
    from agentdock.ops.deploy import build as build_context

    S.need_file(file, as_json)
    if target not in TARGET_NAMES:
        fail(
            f"unknown target {target!r}; known: {', '.join(TARGET_NAMES)}",
            as_json=as_json,
            code=EXIT_USAGE,
        )
    with S.guarded(as_json):
        out_ = build_context(
            file,
            target=target,
            env=S.parse_env(env, as_json),
            out=out,
            image=image,
            exclude=tuple(exclude),
            wheel=wheel,
            base_image=base_image,
            store=store,
            quiet=as_json,
            progress=lambda step: progress(step, as_json=as_json),
        )
    rendered, flavour, folder, artifact, built, note = (
        out_.rendered,
        out_.flavour,
        out_.folder,
        out_.artifact,
        out_.image,
        out_.note,
    )
    data = {
        "agent": rendered.agent,
        "flavour": flavour,
        "context_dir": str(folder),
        "content_hash": artifact.content_hash,
        "files": len(rendered.files),
        "image": built,
        "image_built": built is not None,
        "image_note": note,
        "warnings": list(rendered.warnings),
    }
    human = [
        f"✓ build context for {rendered.agent} ({flavour}): {folder} ({len(rendered.files)} files)",
        f"  content hash: {artifact.content_hash}",
        f"  image: {note}",
    ]
    if image and built is None:
        human.append(f"  build it where an engine runs: docker build -t {image} {folder}")
    human += [f"  warning: {w}" for w in rendered.warnings]
    human += [f"  {n}" for n in out_.notes]
    data["notes"] = list(out_.notes)
    emit(data, as_json=as_json, human=human)


def deploy(
    file: Path = FILE_ARG,
    target: str | None = TARGET_OPT,
    port: int | None = typer.Option(
        None, "--port", help="local: stable port (default deploy.local.port, else 8080)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Deploy a new version even when the content is unchanged."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; change nothing."),
    image: str | None = typer.Option(
        None, "--image", "--image-uri", help="Image URI to deploy (cloud targets)."
    ),
    canary: float | None = typer.Option(
        None, "--canary", help="Cloud targets: send this PERCENT (0-100) of traffic to the new version."
    ),
    health_gate: str | None = typer.Option(
        None,
        "--health-gate",
        help="Cloud targets: auto (default), url, preflight or none. local always gates.",
    ),
    keep: int | None = typer.Option(
        None, "--keep", help="knative: after a good deploy, delete all but the N newest revisions."
    ),
    region: str | None = REGION_OPT,
    project: str | None = typer.Option(
        None, "--project", help="cloudrun: GCP project (wins over the Dockfile and ADC)."
    ),
    endpoint_url: str | None = ENDPOINT_OPT,
    context: str | None = CONTEXT_OPT,
    namespace: str | None = NAMESPACE_OPT,
    exclude: list[str] = EXCLUDE_OPT,
    wheel: Path | None = WHEEL_OPT,
    base_image: str | None = BASE_IMAGE_OPT,
    push_secrets: bool = typer.Option(
        False,
        "--push-secrets",
        help="lambda: create/update the aws-sm:// secrets of deploy.secrets from --env/.env values.",
    ),
    env: list[str] = ENV_OPT,
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Deploy a new immutable version: validate -> build -> register -> start -> health -> live."""
    from agentdock.ops.deploy import DeployRequest
    from agentdock.ops.deploy import deploy as run_deploy
    from agentdock.ops.sample import try_lines

    clock = S.Clock()
    S.need_file(file, as_json)
    request = DeployRequest(
        dockfile=file,
        target=target,
        env=S.parse_env(env, as_json),
        force=force,
        dry_run=dry_run,
        image=image,
        canary=canary,
        health_gate=health_gate,
        port=port,
        region=region,
        project=project,
        endpoint_url=endpoint_url,
        context=context,
        namespace=namespace,
        keep=keep,
        exclude=tuple(exclude),
        wheel=wheel,
        base_image=base_image,
        push_secrets=push_secrets,
        store=store,
        actor=actor,
    )
    with S.guarded(as_json):
        outcome = run_deploy(request, progress=lambda step: progress(step, as_json=as_json))
    if outcome.result is None:
        plan = outcome.plan.to_dict()
        emit(plan, as_json=as_json, human=_plan_lines(plan))
        return
    result, key, loaded = outcome.result, outcome.key, outcome.loaded
    data = {
        "agent": result.agent,
        "version": result.version,
        "url": result.url,
        "target": result.target,
        "status": result.status,
        "duration_ms": clock.ms,
        "previous_version": result.previous_version,
    }
    if key is not None:
        data["api_key"] = key.key
    if result.status == "unchanged":
        human = [f"= {result.agent}: {result.details.get('message', 'unchanged')}", f"  URL:  {result.url}"]
    else:
        prev = f", previous v{result.previous_version}" if result.previous_version is not None else ""
        weight = result.details.get("canary_weight") if isinstance(result.details, dict) else None
        if result.status == "canary" and weight:
            prev = f", {float(weight):.0%} of traffic; v{result.previous_version} keeps the rest"
        human = [
            f"✓ {result.agent} v{result.version} is {result.status} on {result.target} ({clock.ms / 1000:.1f} s{prev})",
            f"  URL:  {result.url}",
        ]
    if key is not None:
        human.append(f"  key:  {key.key}   (shown once: store it now)")
    human += [f"  warning: {w}" for w in outcome.warnings]
    human += try_lines(loaded, result.url, key, file)
    emit(data, as_json=as_json, human=human)


def _plan_lines(plan: dict[str, Any]) -> list[str]:
    lines = [f"plan for {plan['agent']} on {plan['target']} ({plan['artifact']['content_hash']}):"]
    lines += [
        f"  {a['service']}.{a['call']} {a['params']}" + (f"  # {a['reason']}" if a["reason"] else "")
        for a in plan["actions"]
    ]
    return (
        lines
        + ([f"  diff: {plan['diff']}"] if plan.get("diff") else [])
        + (["  (no changes)"] if not plan["actions"] else [])
    )


def register(app: typer.Typer) -> None:
    from agentdock.cli.deploy_ops import destroy, logs, promote, rollback, status

    for command in (build, deploy, rollback, promote, status, logs, destroy):
        app.command(command.__name__)(command)
