"""build, deploy, rollback, promote, status, logs, destroy.

Each command parses, calls agentdock.build / agentdock.targets, and prints through
agentdock.cli.output. Heavy imports stay inside the functions so `agentdock --help` is fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from agentdock.cli import deploy_support as S
from agentdock.cli.output import EXIT_USAGE, emit, fail, progress

FILE_ARG = typer.Argument(Path("Dockfile.yaml"), help="The Dockfile (default ./Dockfile.yaml).")
JSON_OPT = typer.Option(False, "--json", help="Print one JSON object instead of text.")
STORE_OPT = typer.Option(
    None, "--store", help="Metadata store URL (default: $AGENTDOCK_STORE, else SQLite in AGENTDOCK_HOME)."
)
TARGET_OPT = typer.Option(
    "local", "--target", "-t", help="Deploy target: local (default), lambda, knative, cloudrun, ..."
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
WHEEL_OPT = typer.Option(
    None,
    "--wheel",
    help="agentdock wheel to install in the image instead of the released pin ($AGENTDOCK_WHEEL).",
)


def build(
    file: Path = FILE_ARG,
    target: str = typer.Option(
        "local", "--target", "-t", help="Flavour for this target: lambda, knative, cloudrun, local."
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
    env: list[str] = ENV_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Render a deterministic build context (Dockerfile, entry module, frozen spec, source, pinned requirements)."""
    from agentdock.build import artifact_for, flavour_for, prepare, write_context
    from agentdock.build.builder import build_image, detect_builder
    from agentdock.build.context import default_out_dir, skip_dirs

    S.need_file(file, as_json)
    if target not in S.BUILD_TARGETS:
        fail(
            f"unknown target {target!r}; known: {', '.join(S.BUILD_TARGETS)}",
            as_json=as_json,
            code=EXIT_USAGE,
        )
    with S.guarded(as_json):
        progress("validate", as_json=as_json)
        loaded = S.load(file, S.parse_env(env, as_json), target=target if target == "local" else "cloud")
        flavour = flavour_for(target, loaded.spec)
        progress(f"build ({flavour})", as_json=as_json)
        rendered = prepare(loaded, flavour=flavour, exclude=exclude, wheel=wheel, skip=skip_dirs(out))
        folder = write_context(
            rendered, out or default_out_dir(rendered.agent, flavour, rendered.content_hash)
        )
        built, note = None, "no image requested (pass --image TAG)"
        if image:
            found = detect_builder()
            if found.builder is None:
                note = f"NOT built, only the build context was produced ({found.reason})"
            else:
                arch = (
                    loaded.spec.deploy.lambda_.architecture
                    if loaded.spec.deploy and loaded.spec.deploy.lambda_
                    else "arm64"
                )
                platform = (
                    ("linux/arm64" if arch == "arm64" else "linux/amd64")
                    if flavour.startswith("lambda")
                    else None
                )
                progress(f"image ({found.builder.name})", as_json=as_json)
                built = build_image(found.builder, folder, image, platform=platform, quiet=as_json)
                note = f"built and tagged {image} with {found.builder.name}"
        artifact = artifact_for(rendered, folder, built)
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
    emit(data, as_json=as_json, human=human)


def deploy(
    file: Path = FILE_ARG,
    target: str = TARGET_OPT,
    port: int | None = typer.Option(
        None, "--port", help="local: stable port (default deploy.local.port, else 8080)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Deploy a new version even when the content is unchanged."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; change nothing."),
    image: str | None = typer.Option(None, "--image", help="Image URI to deploy (cloud targets)."),
    canary: float | None = typer.Option(
        None, "--canary", help="Cloud targets: send this fraction (0-1) of traffic to the new version."
    ),
    no_health_gate: bool = typer.Option(
        False, "--no-health-gate", help="Cloud targets: skip the health gate (local always gates)."
    ),
    exclude: list[str] = EXCLUDE_OPT,
    wheel: Path | None = WHEEL_OPT,
    env: list[str] = ENV_OPT,
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Deploy a new immutable version: validate -> build -> register -> start -> health -> live."""
    from agentdock.build import artifact_for, flavour_for, prepare, write_context
    from agentdock.build.context import default_out_dir, skip_dirs
    from agentdock.store import actor as who
    from agentdock.targets import get_target, resolve_target_class

    clock = S.Clock()
    S.need_file(file, as_json)
    env_map = S.parse_env(env, as_json)
    with S.guarded(as_json):
        resolve_target_class(target)  # unknown target: exit 2 before any work
        progress("validate", as_json=as_json)
        loaded = S.load(file, env_map, target=target)
        flavour = flavour_for(target, loaded.spec)
        progress(f"build ({flavour})", as_json=as_json)
        rendered = prepare(loaded, flavour=flavour, exclude=exclude, wheel=wheel, skip=skip_dirs(None))
        folder = default_out_dir(rendered.agent, flavour, rendered.content_hash)
        if not dry_run:
            folder = write_context(rendered, folder)
        artifact = artifact_for(rendered, folder, image)
        meta = S.store_for(store, loaded.spec, target)
        actor_name = who(actor)
        tgt = get_target(
            target,
            store=meta,
            progress=lambda step: progress(step, as_json=as_json),
            env=env_map,
            actor=actor_name,
        )
        options: dict[str, Any] = {
            "force": force,
            "health_gate": not no_health_gate,
            "dockfile": str(file.resolve()),
        }
        options |= {
            k: v for k, v in {"port": port, "image_uri": image, "canary": canary}.items() if v is not None
        }
        plan = tgt.plan(loaded.spec, artifact, **options)
        if dry_run:
            emit(plan.to_dict(), as_json=as_json, human=_plan_lines(plan.to_dict()))
            return
        result = tgt.apply(plan)
        key = S.first_key(meta, loaded.spec, actor_name) if result.status == "live" else None
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
        human = [
            f"✓ {result.agent} v{result.version} is {result.status} on {result.target} ({clock.ms / 1000:.1f} s{prev})",
            f"  URL:  {result.url}",
        ]
    if key is not None:
        human.append(f"  key:  {key.key}   (shown once: store it now)")
    human += [f"  warning: {w}" for w in rendered.warnings]
    human += S.try_lines(loaded, result.url, key, file)
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


def rollback(
    agent: str = typer.Argument(..., help="Agent name."),
    version: int | None = typer.Argument(None, help="Version to make live (default: the previous one)."),
    previous: bool = typer.Option(False, "--previous", help="Roll back to the previous live version."),
    target: str = TARGET_OPT,
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Move the live pointer back to an existing version (no rebuild)."""
    from agentdock.store import actor as who
    from agentdock.targets import get_target

    if previous and version is not None:
        fail("give a VERSION or --previous, not both", as_json=as_json, code=EXIT_USAGE)
    clock = S.Clock()
    with S.guarded(as_json):
        tgt = get_target(
            target,
            store=S.store_for(store),
            progress=lambda s: progress(s, as_json=as_json),
            actor=who(actor),
        )
        result = tgt.rollback(agent, version)
    data = {
        "agent": result.agent,
        "version": result.version,
        "url": result.url,
        "target": result.target,
        "status": result.status,
        "duration_ms": clock.ms,
        "previous_version": result.previous_version,
    }
    warm = result.details.get("warm")
    how = "" if warm is None else (" (warm process)" if warm else " (process restarted)")
    emit(
        data,
        as_json=as_json,
        human=[
            f"✓ {agent}: v{result.version} is {result.status} ({result.duration_ms} ms{how}); was v{result.previous_version}",
            f"  URL:  {result.url}",
        ],
    )


def promote(
    agent: str = typer.Argument(..., help="Agent name."),
    target: str = TARGET_OPT,
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Send all traffic to the canary version (targets with a traffic split)."""
    from agentdock.store import actor as who
    from agentdock.targets import get_target

    with S.guarded(as_json):
        tgt = get_target(target, store=S.store_for(store), actor=who(actor))
        if not hasattr(tgt, "promote"):
            fail(f"target {target!r} has no canary to promote", as_json=as_json, code=EXIT_USAGE)
        result = tgt.promote(agent)
    emit(
        result.to_dict(),
        as_json=as_json,
        human=f"✓ {agent}: v{result.version} now takes all traffic ({result.url})",
    )


def status(
    agent: str = typer.Argument(..., help="Agent name."),
    target: str = TARGET_OPT,
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Live version, URL, health, uptime and version history."""
    from agentdock.targets import get_target

    with S.guarded(as_json):
        st = get_target(target, store=S.store_for(store)).status(agent)
    d = st.details
    health = "healthy" if st.healthy else ("unhealthy" if st.healthy is False else "health unknown")
    up = f", up {d['uptime_s']:.0f} s" if d.get("uptime_s") is not None else ""
    live = f"v{st.live_version}" if st.live_version is not None else "no live version"
    lines = [f"{agent} on {st.target}: {live}, {health}{up}", f"  URL: {st.url or '-'}"]
    if st.history:
        lines.append(f"  {'VERSION':<8}{'STATUS':<10}{'RUNNING':<9}{'HASH':<20}{'CREATED':<27}BY")
        for h in st.history:
            running = {True: "yes", False: "no"}.get(h.get("running"), "-")
            lines.append(
                f"  {h['version']:<8}{h['status']:<10}{running:<9}{str(h.get('content_hash', ''))[:18]:<20}"
                f"{str(h.get('created_at', ''))[:26]:<27}{h.get('created_by', '')}"
            )
    emit(st.to_dict(), as_json=as_json, human=lines)


def logs(
    agent: str = typer.Argument(..., help="Agent name."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (Ctrl-C to stop)."),
    version: int | None = typer.Option(
        None, "--version", help="Which version's log (default: the live one)."
    ),
    lines: int = typer.Option(50, "--lines", "-n", help="How many past lines to print."),
    target: str = TARGET_OPT,
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Print (and follow) the function's log."""
    import json

    from agentdock.targets import get_target

    with S.guarded(as_json):
        tgt = get_target(target, store=S.store_for(store))
        if not hasattr(tgt, "logs"):
            fail(
                f"target {target!r} does not serve logs here; use its own console",
                as_json=as_json,
                code=EXIT_USAGE,
            )
        stream = tgt.logs(agent, version=version, follow=follow, lines=lines)
        try:
            if as_json and not follow:
                emit({"agent": agent, "version": version, "lines": list(stream)}, as_json=True)
                return
            for line in stream:
                typer.echo(json.dumps({"agent": agent, "line": line}) if as_json else line)
        except KeyboardInterrupt:
            return


def destroy(
    agent: str = typer.Argument(..., help="Agent name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    target: str = TARGET_OPT,
    store: str | None = STORE_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Stop the agent's processes/resources and remove its pointers (versions and audit stay)."""
    from agentdock.store import actor as who
    from agentdock.targets import get_target

    if not yes and not as_json and S.interactive() and not typer.confirm(f"Destroy {agent} on {target}?"):
        raise typer.Exit(1)
    with S.guarded(as_json):
        get_target(target, store=S.store_for(store), actor=who(actor)).destroy(agent)
    emit(
        {"agent": agent, "target": target, "status": "destroyed"},
        as_json=as_json,
        human=f"✓ {agent} destroyed on {target}",
    )


def register(app: typer.Typer) -> None:
    for command in (build, deploy, rollback, promote, status, logs, destroy):
        app.command(command.__name__)(command)
