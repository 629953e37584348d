"""The steps LocalTarget composes (mixed in): install a version's context, start and gate it,
move the pointer under the agent lock, retire old processes, audit."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentdock.targets.base import Artifact, Deployment
from agentdock.targets.local import process as P
from agentdock.targets.local import run as R
from agentdock.targets.local.status import ALIAS, TARGET, LocalInspectMixin
from agentdock.targets.release import Release

from agentdock.build.context import read_context
from agentdock.build.render import content_hash
from agentdock.errors import DeployError, RecordNotFound
from agentdock.store.base import Pointer


class LocalOpsMixin(LocalInspectMixin):
    env: dict[str, str]
    actor: str
    keep_previous: bool
    health_timeout_s: float
    _progress: Callable[[str], None]

    def _hash_of(self, agent: str, version: int | None) -> str | None:
        if version is None:
            return None
        try:
            return self.store.get_version(agent, version).content_hash
        except RecordNotFound:
            return None

    @property
    def release(self) -> Release:
        return Release(self.store, TARGET, self.actor, ALIAS)

    def _known_version(self, agent: str, version: int) -> None:
        self.release.check(agent, version)
        if not self._dir(agent).version(version).context.is_dir():
            raise DeployError(
                f"{agent}@{version}",
                f"v{version} has no build context on this machine",
                hint="redeploy it: `agentdock deploy` with that Dockfile",
            )

    def _serving(self, agent: str, live: int | None, port: int) -> bool:
        if live is None:
            return False
        adir = self._dir(agent)
        return (
            P.alive(P.read_int(adir.version(live).pid_file), "uvicorn")
            and P.alive(P.read_int(adir.proxy / "pid"), R.PROXY_MARKER)
            and P.read_int(adir.proxy / "port") == port
        )

    def _install(
        self, artifact: Artifact, vdir: P.VersionDir, *, dockfile: str | None, env: dict[str, str]
    ) -> None:
        """Copy the context (read-only) and check the copy still hashes to the artifact id."""
        vdir.root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(artifact.context_dir, vdir.context)
        if content_hash(read_context(vdir.context)) != artifact.content_hash:
            raise DeployError(
                artifact.context_dir, "the build context changed after it was built", hint="run deploy again"
            )
        P.make_read_only(vdir.context)
        meta = {
            "dockfile": str(Path(dockfile).resolve()) if dockfile else None,
            "content_hash": artifact.content_hash,
            "env": env,  # deploy.env (plain values): every restart of this version gets them
        }
        P.write_atomic(vdir.meta_file, json.dumps(meta, indent=2))

    def _start(self, agent: str, n: int) -> tuple[int, int, dict[str, Any]]:
        vdir = self._dir(agent).version(n)
        meta = vdir.meta()
        env = R.process_env(
            vdir.context,
            store_url=self.store.url,
            version=n,
            port=0,
            dockfile=meta.get("dockfile"),
            plain=meta.get("env") or {},
            extra=self.env,
        )

        def starting(pid: int, _side: int) -> None:
            P.write_atomic(vdir.starting_pid_file, str(pid))

        pid, side, gate = R.start_gated(
            vdir.context,
            env=env,
            log=vdir.log,
            version=n,
            timeout_s=self.health_timeout_s,
            on_start=starting,  # before the gate: a killed deploy leaves no orphan without a pid file
        )
        P.write_atomic(vdir.pid_file, str(pid))
        P.write_atomic(vdir.port_file, str(side))
        vdir.starting_pid_file.unlink(missing_ok=True)
        return pid, side, gate

    def _ensure_running(self, agent: str, n: int) -> tuple[int, int]:
        """(pid, side port) of version n: the warm process when it answers /health, else a fresh start."""
        vdir = self._dir(agent).version(n)
        pid, side = P.read_int(vdir.pid_file), P.read_int(vdir.port_file)
        if pid and side and P.alive(pid, "uvicorn") and self._probe(side, timeout_s=1.0) is not None:
            return pid, side
        P.stop(pid, marker="uvicorn")
        pid, side, _ = self._start(agent, n)
        return pid, side

    def _go_live(self, agent: str, n: int, side: int, port: int, *, expected: int | None) -> Pointer:
        """Under the agent lock: proxy up, pointer CAS (statuses follow), live file rewrite: all
        agree, or nothing moved."""
        adir = self._dir(agent)
        with adir.lock():
            R.ensure_proxy(adir.proxy, adir.live_file, port)
            pointer, _ = self.release.move(
                agent,
                n,
                expected_revision=expected,
                url=f"http://127.0.0.1:{port}",
                details={"port": port, "side_port": side},
            )
            P.write_atomic(adir.live_file, json.dumps({"port": side, "version": n}))
        return pointer

    def _retire(self, agent: str, live: int, previous: int | None) -> None:
        """Previous stays warm (when keep_previous); every other version's process stops (their
        store status was set by the pointer move)."""
        keep = {live} | ({previous} if previous is not None and self.keep_previous else set())
        for vdir in self._dir(agent).versions():
            if vdir.number not in keep:
                P.stop(P.read_int(vdir.pid_file), marker="uvicorn")

    def _result(
        self,
        agent: str,
        version: int | None,
        port: int,
        status: str,
        t0: float,
        previous: int | None,
        **details: Any,
    ) -> Deployment:
        return Deployment(
            agent=agent,
            version=version or 0,
            url=f"http://127.0.0.1:{port}",
            target=TARGET,
            status=status,
            duration_ms=int((time.monotonic() - t0) * 1000),
            previous_version=previous,
            details=details,
        )

    def _audit(self, action: str, agent: str, details: dict[str, Any]) -> None:
        self.release.audit(action, agent, details)

    def _check_port(self, adir: P.AgentDir, port: int) -> None:
        """Before anything is registered: the stable port is ours already, or free."""
        ours = (
            P.alive(P.read_int(adir.proxy / "pid"), R.PROXY_MARKER)
            and P.read_int(adir.proxy / "port") == port
        )
        if not ours and not P.port_bindable(port):
            raise DeployError(
                f"deploy.local.port={port}",
                f"port {port} on 127.0.0.1 is in use by another program",
                hint="pass --port N or set deploy.local.port in the Dockfile",
            )
