"""Process supervision for the local target: where a version lives on disk, and how its process
is started (detached, so it outlives the CLI), checked, and stopped.

Layout under ``<AGENTDOCK_HOME>/local/<agent>/``::

    .lock                 flock around pointer moves (CAS + live file + proxy)
    proxy/{pid,port,live.json,proxy.log}
    <n>/context/          the version's build context: immutable (files read-only)
    <n>/{pid,port,server.log,meta.json}

Nothing here stores a secret: process environments live only in memory and in the OS.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Popen objects of children this Python process started: polled so exited children are reaped
# (a zombie still answers kill(pid, 0)). Processes started by an earlier CLI run are not children.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class VersionDir:
    root: Path

    @property
    def number(self) -> int:
        return int(self.root.name)

    @property
    def context(self) -> Path:
        return self.root / "context"

    @property
    def pid_file(self) -> Path:
        return self.root / "pid"

    @property
    def starting_pid_file(self) -> Path:
        """The pid of a process still in its health gate: ``destroy`` stops it (a deploy killed
        mid-gate leaves no orphan); other deploys leave it alone (it is not live-able yet)."""
        return self.root / "pid.starting"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def meta_file(self) -> Path:
        return self.root / "meta.json"

    def meta(self) -> dict[str, Any]:
        try:
            data = json.loads(self.meta_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class AgentDir:
    root: Path

    def version(self, number: int) -> VersionDir:
        return VersionDir(self.root / str(number))

    def versions(self) -> list[VersionDir]:
        if not self.root.is_dir():
            return []
        return sorted(
            (VersionDir(p) for p in self.root.iterdir() if p.name.isdigit()), key=lambda v: v.number
        )

    @property
    def proxy(self) -> Path:
        return self.root / "proxy"

    @property
    def live_file(self) -> Path:
        return self.proxy / "live.json"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across processes: two deploys never interleave a pointer move with its file write."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file + rename: readers see the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def free_port() -> int:
    """A port the OS reports free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, timeout_s: float = 0.2) -> bool:
    """Something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        return s.connect_ex(("127.0.0.1", port)) == 0


def port_bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def spawn(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_path: Path) -> int:
    """Start ``argv`` detached: its own session (Ctrl-C in the CLI does not reach it), stdin closed,
    stdout+stderr appended to ``log_path``. Returns the pid (also the process-group id)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            cwd=str(cwd),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    return proc.pid


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def alive(pid: int | None, marker: str | None = None) -> bool:
    """Is ``pid`` running (not a zombie) and, where /proc exists, is it ours (cmdline has ``marker``)?
    The marker guards against a recycled pid after a reboot."""
    if not pid or pid <= 0:
        return False
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process took the pid
    if Path("/proc").is_dir():
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        if state == "Z":
            return False
        if marker is not None:
            cmd = _cmdline(pid)
            return cmd is not None and marker in cmd
    return True


def stop(pid: int | None, *, grace_s: float = 5.0, marker: str | None = None) -> bool:
    """SIGTERM the process group (uvicorn drains in-flight requests), SIGKILL after ``grace_s``.
    Returns True when something was stopped."""
    if not alive(pid, marker):
        return False
    assert pid is not None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not alive(pid):
            break
        time.sleep(0.02)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=grace_s)
    return True


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def uptime_s(pid_file: Path) -> float | None:
    """Seconds since the pid file was written (= since the process was started)."""
    try:
        return round(time.time() - pid_file.stat().st_mtime, 1)
    except OSError:
        return None


def make_read_only(folder: Path) -> None:
    """Files of an immutable context become read-only (folders stay writable so destroy can remove)."""
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(0o444)


def http_get(
    port: int, path: str, *, headers: Mapping[str, str] | None = None, timeout_s: float = 2.0
) -> tuple[int, str, bytes]:
    """GET http://127.0.0.1:port/path -> (status, content-type, body). Stdlib only: rollback and
    status must not pay for importing an HTTP client. Raises OSError when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    except http.client.HTTPException as exc:
        raise OSError(str(exc)) from exc
    finally:
        conn.close()
