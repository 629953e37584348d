"""The ``agentdock`` command. Each command group lives in its own module with ``register(app)``;
commands parse, call the library, and print through ``agentdock.cli.output``."""

from __future__ import annotations

import importlib

import typer

from agentdock import __version__

COMMAND_MODULES = (
    "agentdock.cli.spec_cmds",  # init, validate, schema
    "agentdock.cli.serve_cmd",  # serve
    "agentdock.cli.token_cmd",  # token issue
    "agentdock.cli.store_cmds",  # keys, versions, audit, store init
    "agentdock.cli.deploy_cmds",  # build, deploy, rollback, promote, status, logs, destroy
    "agentdock.cli.telemetry_cmds",  # telemetry replay, metrics export
    "agentdock.cli.dashboard_cmd",  # dashboard
)

app = typer.Typer(
    name="agentdock",
    help="Take a LangGraph/LangChain agent to a production serverless endpoint with one file and one command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"agentdock {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """AgentDock CLI."""


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    app()
