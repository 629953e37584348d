"""``agentdock dashboard``: the web console on 127.0.0.1, over the same store the deploys use.

On its first start (no active console admin key in the store) it mints one and prints it once;
``--new-admin-key`` mints another. The console binds loopback only: reach it from elsewhere
through an SSH tunnel or a proxy you secure yourself.
"""

from __future__ import annotations

import typer

from agentdock.cli.output import EXIT_USAGE, emit, fail

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def dashboard(
    store: str | None = typer.Option(
        None, "--store", help="Metadata store URL (default: $AGENTDOCK_STORE, else SQLite in AGENTDOCK_HOME)."
    ),
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1."),
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to bind (127.0.0.1 or ::1)."),
    new_admin_key: bool = typer.Option(False, "--new-admin-key", help="Mint another console admin key."),
    actor: str | None = typer.Option(None, "--actor", help="Who mints the admin key, for the audit log."),
    as_json: bool = typer.Option(False, "--json", help="Print the start-up summary as one JSON object."),
) -> None:
    """Serve the web console: agents, versions, rollback, keys, metrics, logs, playground."""
    import uvicorn

    from agentdock.dashboard import create_dashboard
    from agentdock.dashboard.auth import ensure_admin_key
    from agentdock.errors import AgentDockError
    from agentdock.store import actor as who
    from agentdock.store import open_store
    from agentdock.store.base import redact_url

    if host not in LOOPBACK:
        fail(f"--host {host}: the console binds loopback only", as_json=as_json, code=EXIT_USAGE)
    if not 1 <= port <= 65535:
        fail(f"--port {port}: use 1-65535", as_json=as_json, code=EXIT_USAGE)
    try:
        meta = open_store(store)
        key = ensure_admin_key(meta, actor=who(actor), force=new_admin_key)
    except AgentDockError as exc:
        fail(exc, as_json=as_json)
    url = f"http://{'[::1]' if host == '::1' else host}:{port}/"
    lines = [f"✓ AgentDock console: {url}", f"  store: {redact_url(meta.url)}"]
    if key:
        lines.append(f"  admin key: {key}   (shown once: sign in with it, then keep it safe)")
    else:
        lines.append("  sign in with a console key (--new-admin-key mints one) or an agent's key")
    emit({"url": url, "store": redact_url(meta.url), "admin_key": key}, as_json=as_json, human=lines)
    config = uvicorn.Config(
        create_dashboard(meta),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    finally:
        meta.close()
    if not server.started:
        fail(f"could not listen on {host}:{port} (in use?); pass --port N", as_json=as_json)


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
