"""Read-only views of a local deployment: ``status`` and ``logs`` (mixed into LocalTarget)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentdock.targets.base import Status
from agentdock.targets.local import process as P
from agentdock.targets.release import Release

from agentdock.errors import DeployError
from agentdock.store.base import MetadataStore

TARGET = "local"
ALIAS = "live"
DEFAULT_PORT = 8080
PROXY_MODULE = "agentdock.targets.local.proxy"


class LocalInspectMixin:
    store: MetadataStore
    home: Path

    def _dir(self, agent: str) -> P.AgentDir:
        return P.AgentDir(self.home / agent)

    def _probe(self, port: int, timeout_s: float = 2.0) -> Any:
        """The /health body of whatever answers on ``port`` (None when nothing healthy does)."""
        try:
            status, ctype, body = P.http_get(port, "/health", timeout_s=timeout_s)
        except OSError:
            return None
        if status != 200:
            return None
        try:
            return json.loads(body) if "json" in ctype else "ok"
        except ValueError:
            return "ok"

    def status(self, agent: str) -> Status:
        pointer = self.store.get_pointer(agent, TARGET, ALIAS)
        versions = [v for v in self.store.list_versions(agent) if v.target == TARGET]
        if pointer is None and not versions:
            raise DeployError(
                agent, f"no deployment of {agent!r} on the local target", hint="run `agentdock deploy` first"
            )
        adir = self._dir(agent)
        live = pointer.live_version if pointer else None
        port = int(pointer.details.get("port") or DEFAULT_PORT) if pointer else None
        health: Any = None
        if port is not None and live is not None:
            health = self._probe(port)
        history = []
        for row in reversed(Release(self.store, TARGET, "status", ALIAS).history(agent)):
            vdir = adir.version(row["version"])
            pid = P.read_int(vdir.pid_file)
            row.update(
                live=row["version"] == live,
                running=P.alive(pid, "uvicorn"),
                side_port=P.read_int(vdir.port_file),
            )
            history.append(row)
        live_dir = adir.version(live) if live is not None else None
        details = {
            "port": port,
            "previous_version": pointer.previous_version if pointer else None,
            "revision": pointer.revision if pointer else None,
            "health": health,
            "uptime_s": P.uptime_s(live_dir.pid_file) if live_dir else None,
            "pid": P.read_int(live_dir.pid_file) if live_dir else None,
            "proxy_running": P.alive(P.read_int(adir.proxy / "pid"), PROXY_MODULE),
            "log": str(live_dir.log) if live_dir else None,
        }
        url = pointer.url if pointer else None
        healthy = None if live is None else health is not None
        return Status(agent, TARGET, live, url, healthy, details, history)

    def logs(
        self,
        agent: str,
        *,
        version: int | None = None,
        follow: bool = False,
        lines: int = 50,
        poll_s: float = 0.2,
    ) -> Iterator[str]:
        """The last ``lines`` of a version's server log (default: the live one); with ``follow``,
        keep yielding new lines as they are written (until the caller stops iterating)."""
        if version is None:
            pointer = self.store.get_pointer(agent, TARGET, ALIAS)
            version = pointer.live_version if pointer else None
            if version is None:
                raise DeployError(
                    agent,
                    f"{agent!r} has no live version on the local target",
                    hint=f"name one: `agentdock logs {agent} --version N`",
                )
        log = self._dir(agent).version(version).log
        if not log.exists():
            raise DeployError(
                f"{agent}@{version}", f"no log for v{version} on this machine", hint=f"looked for {log}"
            )
        yield from P.log_tail(log, lines).splitlines()
        if not follow:
            return
        with open(log, "rb") as fh:
            fh.seek(0, 2)
            pending = b""
            while True:
                chunk = fh.read()
                if not chunk:
                    time.sleep(poll_s)
                    continue
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for line in complete:
                    yield line.decode(errors="replace")
