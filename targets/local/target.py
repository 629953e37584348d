"""The local target, the embedded default: the same function, versions and pointer model as the
serverless targets, on this machine, with no Docker and no cloud.

* every deploy registers an immutable version (store) whose build context is copied, read-only,
  to ``<AGENTDOCK_HOME>/local/<agent>/<n>/context``;
* the version runs as a detached uvicorn process on a side port, started from that context the
  way the image's CMD starts it; it must pass the health gate (/health, /ready, /schema);
* the live pointer moves by compare-and-set in the store, then the front proxy on the stable
  port (deploy.local.port, default 8080) is repointed by rewriting one file;
* rollback moves the pointer back; the previous version is kept running (``keep_previous``),
  so ``rollback --previous`` is a file rewrite. Older versions are stopped.

POSIX only (Linux, macOS; on Windows use WSL): processes are detached with ``setsid``.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdock.targets.base import Action, Artifact, Deployment, Plan, PlanOptions
from agentdock.targets.local import process as P
from agentdock.targets.local import run as R
from agentdock.targets.local.execute import LocalOpsMixin
from agentdock.targets.local.status import ALIAS, DEFAULT_PORT, TARGET

from agentdock.build.flavours import SPEC_FILE
from agentdock.errors import AgentNotFound, DeployConflict, DeployError, HealthGateFailed
from agentdock.spec.models import DockSpec
from agentdock.spec.plainenv import plain_env
from agentdock.store.base import MetadataStore


@dataclass(frozen=True)
class LocalOptions(PlanOptions):
    """What a local plan decided (``--dry-run --json`` prints it as ``options``)."""

    port: int
    mode: str  # deploy | repair | noop
    live_version: int | None
    expected_revision: int | None
    health_gate: bool
    dockfile: str | None
    force: bool
    env: dict[str, str] = field(default_factory=dict)  # deploy.env: plain values the process gets


class LocalTarget(LocalOpsMixin):
    name = TARGET

    def __init__(
        self,
        store: MetadataStore,
        *,
        home: str | Path | None = None,
        progress: Callable[[str], None] | None = None,
        env: dict[str, str] | None = None,
        actor: str | None = None,
        keep_previous: bool = True,
        health_timeout_s: float = 60.0,
        **_settings: Any,
    ) -> None:
        from agentdock.store import actor as resolve_actor
        from agentdock.store import agentdock_home

        self.store = store
        self.home = Path(home) if home else agentdock_home() / "local"
        self._progress = progress or (lambda _step: None)
        self.env = dict(env or {})  # --env values: process env only, never written anywhere
        self.actor = resolve_actor(actor)
        self.keep_previous = keep_previous
        self.health_timeout_s = health_timeout_s

    # -- plan: pure data ----------------------------------------------------------------------

    def plan(self, spec: DockSpec, artifact: Artifact, **options: Any) -> Plan:
        agent = spec.agent.name
        if options.get("canary"):
            raise DeployError(
                "--canary",
                "the local target has no traffic split",
                hint="deploy, then `agentdock rollback` if needed",
            )
        local = spec.deploy.local if spec.deploy and spec.deploy.local else None
        port = int(options.get("port") or (local.port if local else DEFAULT_PORT))
        env = plain_env(spec)  # an unresolved ${VAR} refuses here, before any change
        pointer = self.store.get_pointer(agent, TARGET, ALIAS)
        live = pointer.live_version if pointer else None
        live_hash = self._hash_of(agent, live)
        same = live_hash == artifact.content_hash and not options.get("force")
        mode = ("noop" if self._serving(agent, live, port) else "repair") if same else "deploy"
        vroot = str(self.home / agent / "<n>")
        actions: list[Action] = []
        if mode == "deploy":
            actions = [
                Action(
                    "store", "create_version", {"content_hash": artifact.content_hash}, "immutable version"
                ),
                Action("fs", "copy_context", {"from": artifact.context_dir, "to": f"{vroot}/context"}),
                Action(
                    "process",
                    "start",
                    {"cwd": f"{vroot}/context", "argv": "python -m uvicorn entry:app", "env": env},
                ),
                Action("http", "health_gate", {"paths": ["/health", "/ready", "/schema"]}),
                Action(
                    "store",
                    "move_pointer",
                    {"from": live, "expected_revision": pointer.revision if pointer else None},
                ),
                Action("fs", "write_live_file", {"proxy_port": port}, "the front proxy follows this file"),
                Action("process", "stop_old", {"keep_previous": self.keep_previous}),
            ]
        elif mode == "repair":
            actions = [
                Action(
                    "process", "restart", {"version": live}, "identical content; live process or proxy down"
                )
            ]
        return Plan(
            target=TARGET,
            agent=agent,
            spec=spec,
            artifact=artifact,
            actions=tuple(actions),
            diff={
                "live_version": live,
                "content_hash": {"live": live_hash, "new": artifact.content_hash},
                "mode": mode,
            },
            options=LocalOptions(
                port=port,
                mode=mode,
                live_version=live,
                expected_revision=pointer.revision if pointer else None,
                health_gate=options.get("health_gate", True) is not False,
                dockfile=options.get("dockfile"),
                force=bool(options.get("force")),
                env=env,
            ),
        )

    # -- apply / rollback: the only side effects ----------------------------------------------

    def apply(self, plan: Plan) -> Deployment:
        t0 = time.monotonic()
        agent, opts = plan.agent, plan.options
        if not isinstance(opts, LocalOptions):
            raise DeployError("plan", f"a {plan.target} plan cannot be applied by the local target")
        live, port = opts.live_version, opts.port
        if opts.mode == "noop":
            pointer = self.store.get_pointer(agent, TARGET, ALIAS)
            return self._result(
                agent,
                live,
                port,
                "unchanged",
                t0,
                pointer.previous_version if pointer else None,
                message=f"identical to live v{live}: nothing to do (use --force for a new version)",
            )
        if opts.mode == "repair":
            pid, side = self._ensure_running(agent, live)
            self._go_live(agent, live, side, port, expected=opts.expected_revision)
            return self._result(
                agent, live, port, "live", t0, None, message=f"restarted v{live} (identical content)"
            )
        adir = self._dir(agent)
        self._check_port(adir, port)
        self._progress("register")
        frozen = json.loads((Path(plan.artifact.context_dir) / SPEC_FILE).read_text())
        record = self.release.register(
            agent,
            content_hash=plan.artifact.content_hash,
            spec=frozen,
            image=plan.artifact.image,
            label=plan.spec.metadata.version,
        )
        n = record.number
        vdir = adir.version(n)
        self._install(plan.artifact, vdir, dockfile=opts.dockfile, env=opts.env)
        self._progress(f"start v{n}")
        try:
            pid, side, gate = self._start(agent, n)
        except HealthGateFailed as exc:
            self.release.mark_failed(agent, n)
            self._audit(
                "deploy.failed", agent, {"version": n, "cause": exc.cause[:500], "live_version": live}
            )
            if live is None:
                R.stop_proxy(adir.proxy)
            keep = f"v{live} stays live" if live is not None else "nothing was live"
            raise HealthGateFailed(
                exc.path,
                f"v{n} failed its health gate: {exc.cause}",
                hint=f"{keep}; see `agentdock logs {agent} --version {n}`",
            ) from exc
        self._progress(f"health ok ({gate['ready_ms']} ms)")
        try:
            self._go_live(agent, n, side, port, expected=opts.expected_revision)
        except DeployConflict:
            P.stop(pid)
            self.release.mark_failed(agent, n)
            self._audit("deploy.conflict", agent, {"version": n})
            raise
        self._progress("live")
        self._retire(agent, n, live)
        result = self._result(
            agent, n, port, "live", t0, live, gate=gate, side_port=side, content_hash=record.content_hash
        )
        self._audit(
            "deploy",
            agent,
            {k: v for k, v in result.to_dict().items() if k in ("version", "previous_version", "duration_ms")}
            | {"content_hash": record.content_hash},
        )
        return result

    def rollback(self, agent: str, version: int | None = None) -> Deployment:
        t0 = time.monotonic()
        pointer = self.store.get_pointer(agent, TARGET, ALIAS)
        if pointer is None or pointer.live_version is None:
            raise DeployError(
                agent,
                f"{agent!r} has no live version on the local target",
                hint="run `agentdock deploy` first",
            )
        live, port = pointer.live_version, int(pointer.details.get("port") or DEFAULT_PORT)
        wanted = self.release.choose(agent, pointer, version)
        if wanted == live:
            return self._result(
                agent,
                live,
                port,
                "unchanged",
                t0,
                pointer.previous_version,
                message=f"v{live} is already live",
            )
        self._known_version(agent, wanted)
        self._progress(f"start v{wanted}")
        warm_pid = P.read_int(self._dir(agent).version(wanted).pid_file)
        warm = P.alive(warm_pid, "uvicorn")
        pid, side = self._ensure_running(agent, wanted)
        t_move = time.monotonic()
        self._go_live(agent, wanted, side, port, expected=pointer.revision)
        move_ms = int((time.monotonic() - t_move) * 1000)
        self._progress("live")
        self._retire(agent, wanted, live)
        result = self._result(
            agent, wanted, port, "live", t0, live, warm=warm and warm_pid == pid, pointer_move_ms=move_ms
        )
        self._audit(
            "rollback",
            agent,
            {"version": wanted, "previous_version": live, "duration_ms": result.duration_ms},
        )
        return result

    def destroy(self, agent: str) -> None:
        adir = self._dir(agent)
        pointer = self.store.get_pointer(agent, TARGET, ALIAS)
        if pointer is None and not adir.root.exists():
            raise AgentNotFound(
                agent,
                f"no agent named {agent} on the local target",
                hint="agentdock versions <agent> lists what the store knows",
            )
        with adir.lock():
            R.stop_proxy(adir.proxy)
            for vdir in adir.versions():
                P.stop(P.read_int(vdir.pid_file), marker="uvicorn")
                P.stop(P.read_int(vdir.starting_pid_file), marker="uvicorn")
            pointer = self.store.get_pointer(agent, TARGET, ALIAS)
            if pointer is not None and pointer.live_version is not None:
                self.store.set_version_status(agent, pointer.live_version, "retired")
            self.store.delete_agent(agent, TARGET)
        shutil.rmtree(adir.root, ignore_errors=True)
        self._audit("destroy", agent, {})


def preflight(
    context_dir: Path, *, timeout_s: float = 30.0, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a build context locally exactly as the local target does, gate it on /health, /ready
    and /schema, stop it. Returns the gate result; raises HealthGateFailed with the cause."""
    import tempfile

    context_dir = Path(context_dir).resolve()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="agentdock-preflight-") as tmp:
        log = Path(tmp) / "server.log"
        penv = R.process_env(context_dir, store_url=None, version=None, port=0, dockfile=None, extra=env)
        pid, _port, gate = R.start_gated(context_dir, env=penv, log=log, version=None, timeout_s=timeout_s)
        P.stop(pid)
    return {**gate, "duration_ms": int((time.monotonic() - t0) * 1000)}
