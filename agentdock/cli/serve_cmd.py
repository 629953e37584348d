"""``agentdock serve``: run the agent's runtime app locally with uvicorn, for development.

It is the same app every target runs (``create_app``), built from the Dockfile directly
rather than from a frozen build context. With API keys on and no key source configured
(``AGENTDOCK_BOOTSTRAP_KEY_HASH`` / ``AGENTDOCK_STORE``), a development key for the admin
role is minted for this session and printed once, so the endpoints can be called at all.
``--reload`` restarts on changes to the agent's folder (uvicorn's reloader imports
``reload_factory`` in a child process; the Dockfile path and ``--env`` values reach it through
the environment).
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path
from typing import Any

import typer

from agentdock.cli.output import EXIT_USAGE, emit, fail, progress
from agentdock.errors import AgentDockError
from agentdock.settings import ENV_BOOTSTRAP_KEY_HASH, ENV_DOCKFILE, ENV_KEY_PEPPER, ENV_STORE


def parse_env_pairs(pairs: list[str]) -> dict[str, str]:
    """``["K=V", ...]`` -> dict; raises ValueError naming the malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not key.strip().replace("_", "a").isalnum():
            raise ValueError(f"--env expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def _load(file: Path, env: dict[str, str]) -> Any:
    from agentdock.spec import load_dockfile

    return load_dockfile(file, env=env)


def _dev_key(spec: Any) -> str | None:
    """Mint a session key when API keys are on and no bootstrap key is set. Keys of the agent's
    store (``agentdock keys create``) work too: serve reads the same store the keys commands write
    (``AGENTDOCK_STORE``, else the agent's remembered store, else the default SQLite file)."""
    keys_on = spec.auth.mode == "api_key" or bool(spec.auth.api_keys and spec.auth.api_keys.enabled)
    if keys_on and not os.environ.get(ENV_STORE):
        from agentdock.ops.stores import agent_store_url

        os.environ[ENV_STORE] = agent_store_url(spec.agent.name)
    if not keys_on or os.environ.get(ENV_BOOTSTRAP_KEY_HASH):
        return None
    from agentdock.security.apikeys import generate_api_key

    new = generate_api_key(pepper=os.environ.get(ENV_KEY_PEPPER, ""))
    os.environ[ENV_BOOTSTRAP_KEY_HASH] = f"{new.key_id}:admin:{new.key_hash}"
    return new.key


class _HeldLog:
    """Holds the runtime's log lines until the startup summary is out (``--json``: it comes first)."""

    def __init__(self) -> None:
        self.lines: list[str] | None = []

    def __call__(self, line: str) -> None:
        if self.lines is not None:
            self.lines.append(line)
            return
        sys.stdout.write(line)
        sys.stdout.flush()

    def release(self) -> None:
        held, self.lines = self.lines or [], None
        for line in held:
            self(line)


def reload_factory() -> Any:
    """The app for uvicorn's reloader child: Dockfile from ``AGENTDOCK_DOCKFILE``."""
    from agentdock.runtime.app import create_app

    loaded = _load(Path(os.environ[ENV_DOCKFILE]), {})
    return create_app(loaded.spec, base_dir=loaded.base_dir)


def serve(
    file: Path = typer.Argument(Path("Dockfile.yaml"), help="The Dockfile to serve."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind (0.0.0.0 to listen on every interface)."
    ),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port to listen on."),
    reload: bool = typer.Option(False, "--reload", help="Restart when files in the agent's folder change."),
    env: list[str] = typer.Option(
        [], "--env", help="KEY=VALUE for ${VAR} references and the agent (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the startup summary as one JSON object."),
) -> None:
    """Run the agent locally: POST /invoke, /stream, /docs, /health, /metrics."""
    try:
        pairs = parse_env_pairs(env)
    except ValueError as exc:
        fail(str(exc), as_json=as_json, code=EXIT_USAGE)
    if not file.is_file():
        fail(f"no Dockfile at {file}", as_json=as_json, code=EXIT_USAGE)
    os.environ.update(pairs)  # the agent's own code reads its settings from the environment too
    os.environ.setdefault("AGENTDOCK_METRICS_LEDGER", "1")  # local aggregates: `agentdock metrics export`
    try:
        loaded = _load(file, pairs)
        dev_key = _dev_key(loaded.spec)
        app = None
        held = _HeldLog()
        if not reload:
            from agentdock.runtime.app import create_app

            progress(f"building {loaded.spec.agent.name}", as_json=as_json)
            app = create_app(loaded.spec, base_dir=loaded.base_dir, log_sink=held)
            app.state.runtime.host.load()  # fail here, with a clean message, not inside uvicorn
    except AgentDockError as exc:
        fail(exc, as_json=as_json)
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        fail(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
            + (" (the port is in use; pick another with --port)" if _in_use(exc) else ""),
            as_json=as_json,
            code=EXIT_USAGE,
        )
    url = f"http://{host}:{port}"
    summary: dict[str, Any] = {
        "ok": True,
        "agent": loaded.spec.agent.name,
        "url": url,
        "docs": f"{url}/docs",
        "reload": reload,
    }
    human = [f"✓ {loaded.spec.agent.name} on {url}  (docs: {url}/docs, Ctrl+C to stop)"]
    if dev_key:
        summary["dev_api_key"] = dev_key
        human.append(f"  development API key (admin, this session only): {dev_key}")
    emit(summary, as_json=as_json, human=human)
    sys.stdout.flush()  # the summary must show before uvicorn takes over (stdout may be a pipe)
    held.release()

    import uvicorn

    from agentdock.runtime.host import freeze_startup_heap
    from agentdock.runtime.server import body_limit, server_options

    options = server_options(max_body_bytes=body_limit(loaded.spec.arguments))
    if reload:
        sock.close()  # the reloader binds again in its own process
        os.environ[ENV_DOCKFILE] = str(file.resolve())
        uvicorn.run(
            "agentdock.cli.serve_cmd:reload_factory",
            factory=True,
            host=host,
            port=port,
            reload=True,
            reload_dirs=[str(loaded.base_dir)],
            reload_includes=["*.py", "*.yaml", "*.yml", "*.json"],
            log_level="warning",
            **options,
        )
    else:
        assert app is not None
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", **options)
        freeze_startup_heap()  # the app and its graph are built (host.load() above)
        uvicorn.Server(config).run(sockets=[sock])  # the socket bound above: no second bind to lose


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before printing "✓ ... on URL": a busy port is a clear error, not a success line
    followed by uvicorn's bind failure."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _in_use(exc: OSError) -> bool:
    return exc.errno == errno.EADDRINUSE


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
