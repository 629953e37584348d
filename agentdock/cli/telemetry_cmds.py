"""``agentdock telemetry replay`` and ``agentdock metrics export``.

``replay`` delivers the trace batches a runtime spooled while its backend was down (see
``agentdock.telemetry.spool``); ``metrics export`` prints the local aggregates ``agentdock serve``
keeps (requests, errors, latency, tokens, cost per day, route and status) as CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import asdict

import typer

from agentdock.cli.output import EXIT_USAGE, emit, fail
from agentdock.errors import AgentDockError

telemetry_app = typer.Typer(help="Deliver spooled traces.", no_args_is_help=True)
metrics_app = typer.Typer(help="Export local metrics aggregates.", no_args_is_help=True)


@telemetry_app.command("replay")
def replay_cmd(
    agent: str | None = typer.Option(None, "--agent", help="Only this agent's spool (default: every agent)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Send every spooled trace batch to its backend, oldest first (credentials from the env)."""
    from agentdock.telemetry.replay import replay

    try:
        results = replay(agent)
    except AgentDockError as exc:
        fail(exc, as_json=as_json)
    left = sum(r.left for r in results)
    data = {
        "ok": left == 0,
        "delivered_spans": sum(r.spans for r in results),
        "delivered_batches": sum(r.batches for r in results),
        "left_batches": left,
        "sinks": [asdict(r) for r in results],
    }
    human = [
        f"{r.agent}/{r.sink}: {r.spans} spans in {r.batches} batches -> {r.endpoint} ({r.left} left)"
        for r in results
    ]
    emit(data, as_json=as_json, human=human or ["nothing spooled"])
    if left:
        raise typer.Exit(1)


@metrics_app.command("export")
def export_cmd(
    agent: str = typer.Option(..., "--agent", help="The agent's name (agent.name in its Dockfile)."),
    fmt: str = typer.Option("csv", "--format", help="csv or json."),
) -> None:
    """Local aggregates of ``agentdock serve`` runs: one row per day, route and status."""
    from agentdock.telemetry.ledger import aggregate

    if fmt not in ("csv", "json"):
        fail(f"--format must be csv or json, not {fmt!r}", as_json=False, code=EXIT_USAGE)
    rows = aggregate(agent)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    out = io.StringIO()
    fields = ["date", "route", "status", "requests", "errors", "latency_ms_avg", "latency_ms_max"]
    fields += ["input_tokens", "output_tokens", "cost_usd"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    sys.stdout.write(out.getvalue())


def register(app: typer.Typer) -> None:
    app.add_typer(telemetry_app, name="telemetry")
    app.add_typer(metrics_app, name="metrics")
