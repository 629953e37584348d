"""Start a context's command the way the platform starts the image, without a container engine.

Inside a private mount namespace (``unshare --mount``): the context and the locked environment
are bind-mounted read-only at ``/mnt/ctx`` and ``/mnt/env``, every other mount is remounted
read-only, ``/tmp`` is a fresh tmpfs (the only writable path, as on Lambda), and the command
runs as uid/gid 10001 with no capabilities (``setpriv``), no HOME, and only the environment it
is given. Where a step is not possible here (not root, no ``unshare``), the command still runs,
and the report says which isolation was skipped.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agentdock.build.flavours import NON_ROOT_UID

CTX_MOUNT = "/mnt/ctx"
ENV_MOUNT = "/mnt/env"
_SKIP_RO = ("/proc", "/sys", "/dev", "/tmp", "/mnt")

_SCRIPT = """set -e
{mount} -t tmpfs -o mode=755,size=8m agentdock-preflight /mnt
mkdir {ctx} {env}
{mount} --bind {ctx_src} {ctx} && {mount} -o remount,bind,ro {ctx}
{mount} --bind {env_src} {env} && {mount} -o remount,bind,ro {env}
cut -d' ' -f5 /proc/self/mountinfo | while read -r m; do
  case "$m" in {skip}) ;; *) {mount} -o remount,bind,ro "$m" 2>/dev/null || echo "agentdock-preflight: $m stays writable" >&2 ;; esac
done
{mount} -t tmpfs -o mode=1777,size=256m agentdock-tmp /tmp
cd {ctx}
unset PWD OLDPWD
exec {setpriv} --reuid={uid} --regid={uid} --clear-groups --inh-caps=-all --bounding-set=-all -- "$@"
"""


@dataclass
class Sandbox:
    """Where the command sees the context and the environment, and what isolation applies."""

    context: Path
    venv: Path
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def isolated(self) -> bool:
        return not self.skipped

    @property
    def ctx_path(self) -> str:
        return CTX_MOUNT if self.isolated else str(self.context)

    @property
    def env_path(self) -> str:
        return ENV_MOUNT if self.isolated else str(self.venv)


def _namespaces_work(unshare: str) -> str | None:
    """None when a private mount namespace with tmpfs mounts works here, else why not."""
    try:
        proc = subprocess.run(
            [unshare, "--mount", "--propagation", "private", "--", "mount", "-t", "tmpfs", "t", "/mnt"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if proc.returncode == 0 else (proc.stderr.strip() or f"exit {proc.returncode}")


def prepare(context: Path, venv: Path) -> Sandbox:
    box = Sandbox(context.resolve(), venv.resolve())
    unshare, setpriv, mount = shutil.which("unshare"), shutil.which("setpriv"), shutil.which("mount")
    if os.geteuid() != 0:
        box.skipped.append("mount namespace, read-only root, uid 10001 (needs root: run as root or in CI)")
    elif not (unshare and setpriv and mount):
        box.skipped.append("mount namespace, read-only root, uid 10001 (unshare/setpriv/mount not found)")
    elif (why := _namespaces_work(unshare)) is not None:
        box.skipped.append(f"mount namespace, read-only root, uid 10001 (unshare --mount failed: {why})")
    else:
        box.applied += [
            "private mount namespace",
            "read-only root (every mount remounted ro)",
            "writable /tmp only (fresh tmpfs)",
            f"uid/gid {NON_ROOT_UID}, no capabilities",
        ]
    box.applied += ["no HOME", "only the image's ENV and the target's environment"]
    return box


def argv_for(box: Sandbox, command: Sequence[str]) -> list[str]:
    if not box.isolated:
        return list(command)
    script = _SCRIPT.format(
        mount=shutil.which("mount"),
        setpriv=shutil.which("setpriv"),
        ctx=CTX_MOUNT,
        env=ENV_MOUNT,
        ctx_src=shlex.quote(str(box.context)),
        env_src=shlex.quote(str(box.venv)),
        skip="|".join(f"{p}|{p}/*" for p in _SKIP_RO),
        uid=NON_ROOT_UID,
    )
    return [str(shutil.which("unshare")), "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
            "agentdock-preflight", *command]  # fmt: skip


def spawn(
    box: Sandbox, command: Sequence[str], env: Mapping[str, str], log: Path, *, stdin: int | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in the sandbox (own process group), output to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv_for(box, command),
            cwd=str(box.context),
            env=dict(env),
            stdout=out if stdin is None else subprocess.PIPE,
            stderr=out,
            stdin=stdin,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 5.0) -> None:
    """SIGTERM the process group (as Lambda/Knative do), then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout_s)


def reproduce(box: Sandbox, command: Sequence[str], env: Mapping[str, str], secret_names: set[str]) -> str:
    """A shell line that runs the same command; secret values are read from your shell, never printed."""
    pairs = [f'{k}="${k}"' if k in secret_names else f"{k}={shlex.quote(v)}" for k, v in sorted(env.items())]
    return " ".join(
        [
            "cd",
            shlex.quote(str(box.context)),
            "&&",
            "env",
            "-i",
            *pairs,
            *map(shlex.quote, argv_for(box, command)),
        ]
    )
