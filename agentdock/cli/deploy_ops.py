"""rollback, promote, status, logs, destroy: the commands that act on an existing deployment
(registered by deploy_cmds.register)."""

from __future__ import annotations

import typer

from agentdock.cli import deploy_support as S
from agentdock.cli.deploy_cmds import (
    ACTOR_OPT,
    CONTEXT_OPT,
    ENDPOINT_OPT,
    JSON_OPT,
    REGION_OPT,
    STORE_OPT,
    TARGET_OPT,
)
from agentdock.cli.output import EXIT_FAILED, EXIT_USAGE, emit, fail, progress
from agentdock.ops import manage as ops

FUNCTION_OPT = typer.Option(
    None,
    "--function",
    help="Lambda: a function AgentDock did not deploy (e.g. a CDK AgentFunction); its versions "
    "and alias are read from Lambda and recorded first.",
)


def _function(function: str | None, target: str | None, as_json: bool) -> dict[str, str]:
    """``--function`` as a target setting (Lambda only)."""
    if function is None:
        return {}
    if target != "lambda":
        fail(
            "--function applies to --target lambda only: add --target lambda",
            as_json=as_json,
            code=EXIT_USAGE,
        )
    return {"function_name": function}


def rollback(
    agent: str = typer.Argument(..., help="Agent name."),
    version: int | None = typer.Argument(None, help="Version to make live (default: the previous one)."),
    previous: bool = typer.Option(False, "--previous", help="Roll back to the previous live version."),
    target: str | None = TARGET_OPT,
    store: str | None = STORE_OPT,
    region: str | None = REGION_OPT,
    endpoint_url: str | None = ENDPOINT_OPT,
    context: str | None = CONTEXT_OPT,
    function: str | None = FUNCTION_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Move the live pointer back to an existing version (no rebuild)."""
    from agentdock.store import actor as who

    if previous and version is not None:
        fail("give a VERSION or --previous, not both", as_json=as_json, code=EXIT_USAGE)
    clock = S.Clock()
    with S.guarded(as_json):
        tgt = ops.open_agent_target(
            agent,
            target,
            store,
            region,
            endpoint_url,
            **S.kube(context),
            progress=lambda s: progress(s, as_json=as_json),
            actor=who(actor),
            **_function(function, target, as_json),
        )
        result = ops.rollback(tgt, agent, version)
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
    target: str | None = TARGET_OPT,
    store: str | None = STORE_OPT,
    region: str | None = REGION_OPT,
    endpoint_url: str | None = ENDPOINT_OPT,
    context: str | None = CONTEXT_OPT,
    function: str | None = FUNCTION_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Send all traffic to the canary version (targets with a traffic split)."""
    from agentdock.store import actor as who

    settings = _function(function, target, as_json)
    with S.guarded(as_json):
        tgt = ops.open_agent_target(
            agent, target, store, region, endpoint_url, **S.kube(context), actor=who(actor), **settings
        )
        result = ops.promote(tgt, agent)
    emit(
        result.to_dict(),
        as_json=as_json,
        human=f"✓ {agent}: v{result.version} now takes all traffic ({result.url})",
    )


def status(
    agent: str = typer.Argument(..., help="Agent name."),
    target: str | None = TARGET_OPT,
    store: str | None = STORE_OPT,
    region: str | None = REGION_OPT,
    endpoint_url: str | None = ENDPOINT_OPT,
    context: str | None = CONTEXT_OPT,
    function: str | None = FUNCTION_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Live version, URL, health, uptime and version history."""
    from agentdock.store import actor as who

    settings = _function(function, target, as_json)
    with S.guarded(as_json):
        tgt = ops.open_agent_target(
            agent, target, store, region, endpoint_url, **S.kube(context), actor=who(actor), **settings
        )
        st = ops.status(tgt, agent)
    d = st.details
    health = "healthy" if st.healthy else ("unhealthy" if st.healthy is False else "health unknown")
    up = f", up {d['uptime_s']:.0f} s" if d.get("uptime_s") is not None else ""
    live = f"v{st.live_version}" if st.live_version is not None else "no live version"
    lines = [f"{agent} on {st.target}: {live}, {health}{up}", f"  URL: {st.url or '-'}"]
    # cloud targets: where the alias points and how traffic is split (Lambda: invoke mode, weights)
    keys = ("alias", "function_version", "invoke_mode", "auth_type", "live_revision", "latest_ready_revision")
    shown = {k: d[k] for k in keys if d.get(k)}
    if shown:
        lines.append("  " + "  ".join(f"{k}: {v}" for k, v in shown.items()))
    for t in d.get("traffic") or []:  # knative, cloudrun: the tags, revisions and shares
        lines.append(
            f"  {t.get('tag') or '-':<10} -> {t.get('revisionName')} {t.get('percent') or 0}%  {t.get('url') or ''}"
        )
    if d.get("weights"):
        split = ", ".join(f"function version {v}: {w:.0%}" for v, w in d["weights"].items())
        lines.append(f"  canary: {split}")
    if st.history:
        # fits 80 columns: short hash, creation time to the minute, actor cut to 12
        lines.append(f"  {'VERSION':<8}{'STATUS':<9}{'RUNNING':<8}{'HASH':<14}{'CREATED':<18}BY")
        for h in st.history:
            running = {True: "yes", False: "no"}.get(h.get("running"), "-")
            created = str(h.get("created_at", ""))[:16].replace("T", " ")
            digest = str(h.get("content_hash", "")).split(":")[-1][:12]
            lines.append(
                f"  {str(h.get('version', '-')):<8}{str(h.get('status', '-')):<9}{running:<8}{digest:<14}"
                f"{created:<18}{str(h.get('created_by', ''))[:12]}"
            )
    emit(st.to_dict(), as_json=as_json, human=lines)
    if st.live_version is None or st.healthy is False:
        raise typer.Exit(EXIT_FAILED)  # scripts: `agentdock status x && ...` means "serving"


def logs(
    agent: str = typer.Argument(..., help="Agent name."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (Ctrl-C to stop)."),
    version: int | None = typer.Option(
        None, "--version", help="Which version's log (default: the live one)."
    ),
    lines: int = typer.Option(50, "--lines", "-n", help="How many past lines to print."),
    target: str | None = TARGET_OPT,
    store: str | None = STORE_OPT,
    region: str | None = REGION_OPT,
    endpoint_url: str | None = ENDPOINT_OPT,
    context: str | None = CONTEXT_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Print (and follow) the function's log."""
    import json

    with S.guarded(as_json):
        tgt = ops.open_agent_target(agent, target, store, region, endpoint_url, **S.kube(context))
        stream = ops.logs(tgt, agent, version=version, follow=follow, lines=lines)
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
    target: str | None = TARGET_OPT,
    store: str | None = STORE_OPT,
    region: str | None = REGION_OPT,
    endpoint_url: str | None = ENDPOINT_OPT,
    context: str | None = CONTEXT_OPT,
    actor: str | None = ACTOR_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Stop the agent's processes/resources and remove its pointers (versions and audit stay)."""
    from agentdock.store import actor as who

    with S.guarded(as_json):
        tgt = ops.open_agent_target(
            agent, target, store, region, endpoint_url, **S.kube(context), actor=who(actor)
        )
        if (
            not yes
            and not as_json
            and S.interactive()
            and not typer.confirm(f"Destroy {agent} on {tgt.name}?")
        ):
            raise typer.Exit(1)
        ops.destroy(tgt, agent)
    emit(
        {"agent": agent, "target": tgt.name, "status": "destroyed"},
        as_json=as_json,
        human=f"✓ {agent} destroyed on {tgt.name}",
    )
