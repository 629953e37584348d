"""``agentdock preflight DOCKFILE --target T``: build the target's context and run it as its image
runs there (locked environment, the image's CMD, ENV and sandbox), without a container engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from agentdock.cli import deploy_support as S
from agentdock.cli.deploy_cmds import (
    BASE_IMAGE_OPT,
    ENDPOINT_OPT,
    ENV_OPT,
    EXCLUDE_OPT,
    FILE_ARG,
    JSON_OPT,
    REGION_OPT,
    STORE_OPT,
    WHEEL_OPT,
)
from agentdock.cli.output import emit, progress


def preflight(
    file: Path = FILE_ARG,
    target: str = typer.Option("lambda", "--target", "-t", help="lambda, knative or cloudrun."),
    env: list[str] = ENV_OPT,
    store: str | None = STORE_OPT,
    region: str | None = REGION_OPT,
    endpoint_url: str | None = ENDPOINT_OPT,
    exclude: list[str] = EXCLUDE_OPT,
    wheel: Path | None = WHEEL_OPT,
    base_image: str | None = BASE_IMAGE_OPT,
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds the image's CMD may take to be ready."),
    as_json: bool = JSON_OPT,
) -> None:
    """Run the target's build context as its image would run, and check /health, /schema, /invoke,
    /stream and, for a LangGraph graph, the LangGraph API (assistants, threads, runs)."""
    from agentdock.build import flavour_for, prepare, write_context
    from agentdock.build.context import default_out_dir, skip_dirs
    from agentdock.build.requirements import runtime_extras
    from agentdock.errors import PreflightFailed
    from agentdock.ops.deploy import load
    from agentdock.preflight import preflight as run
    from agentdock.preflight.targetenv import target_env
    from agentdock.spec import read_dotenv

    S.need_file(file, as_json)
    values = {**read_dotenv(file.resolve().parent / ".env"), **S.parse_env(env, as_json)}
    with S.guarded(as_json):
        progress("validate", as_json=as_json)
        loaded = load(file, values, target="build")
        flavour = flavour_for(target, loaded.spec)
        progress(f"build ({flavour})", as_json=as_json)
        rendered = prepare(
            loaded,
            flavour=flavour,
            exclude=exclude,
            wheel=wheel,
            skip=skip_dirs(None),
            base_image=base_image,
            store=store,  # the function reads it (without deploy.store): its driver goes in
        )
        folder = write_context(rendered, default_out_dir(rendered.agent, flavour, rendered.content_hash))
        store_url = store or (loaded.spec.deploy.store if loaded.spec.deploy else None)
        tenv = target_env(
            loaded.raw,
            values=values,
            store_url=store_url,
            region=region,
            endpoint_url=endpoint_url,
            aws="aws-runtime" in runtime_extras(flavour, loaded.spec, store),
            spec=loaded.spec,
        )
        if tenv.missing:
            raise PreflightFailed(
                "${VAR}",
                "no value for "
                + ", ".join(tenv.missing)
                + " (looked in --env and "
                + str(file.resolve().parent / ".env")
                + "; the shell's environment is not used)",
                hint="pass --env NAME=VALUE, or set deploy.secrets.NAME to aws-sm://, ssm:// or k8s://",
            )
        progress("preflight (locked env, image CMD, sandbox)", as_json=as_json)
        result: dict[str, Any] = run(
            folder, target_env=tenv.env, secret_names=tenv.secret_names, timeout_s=timeout
        )
    result["content_hash"] = rendered.content_hash
    human = [
        f"✓ preflight {rendered.agent} ({flavour}): /health, /schema, "
        + ("/invoke" if "invoke" in result else "")
        + (f", /stream ({result['stream_events']} events)" if "stream_events" in result else "")
        + (", /stream resume" if "stream_resume" in result else ""),
        *langgraph_lines(result.get("langgraph")),
        f"  context: {folder}",
        f"  environment: {result['env']['path']} ({'cached' if result['env']['cached'] else 'installed'})",
        f"  ready in {result['ready_ms']} ms, RSS {result['rss_mb']} MB; auth: {result['auth']}",
        "  isolation: " + "; ".join(result["isolation"]["applied"]),
    ]
    human += [f"  skipped isolation: {s}" for s in result["isolation"]["skipped"]]
    emit(result, as_json=as_json, human=human)


def langgraph_lines(seen: dict[str, Any] | None) -> list[str]:
    """The LangGraph API checks, for people."""
    if not seen:
        return []
    line = f"  LangGraph API: assistants/search ({seen['assistants']})"
    if "thread_runs" in seen:
        line += (
            f", threads ({seen['checkpointer']}: {seen['threads_in']}): 2 runs/wait with memory"
            f" ({seen['checkpoints']} checkpoints), runs/stream"
            f" ({sum(seen['stream_events'].values())} events)"
        )
    else:
        line += f"; threads off (state.checkpointer: {seen['checkpointer']})"
    return [line]


def register(app: typer.Typer) -> None:
    app.command("preflight")(preflight)
