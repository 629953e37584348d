"""Find a container engine that actually works, and build + tag an image with it.

"Available" means more than a binary on PATH: docker and podman must answer ``version`` with a
server part (the daemon / service is reachable); buildah is daemonless and must answer
``version``. When none works, callers say that only the build context was produced.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from agentdock.errors import BuildError

ENGINES = ("docker", "podman", "buildah")


@dataclass(frozen=True)
class Builder:
    name: str
    path: str

    def build_argv(self, context_dir: Path, tag: str, *, platform: str | None = None) -> list[str]:
        cmd = [self.path, "bud" if self.name == "buildah" else "build", "-t", tag]
        if platform:
            cmd += ["--platform", platform]
        return [*cmd, str(context_dir)]


@dataclass(frozen=True)
class Detection:
    builder: Builder | None
    reason: str  # why none works (or which one was picked)


def _probe(name: str, path: str, timeout_s: float) -> str | None:
    """None when the engine works, else a one-line reason."""
    argv = [path, "version"] if name == "buildah" else [path, "version", "--format", "{{.Server.Version}}"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{name}: {exc.__class__.__name__}: {exc}"
    if proc.returncode != 0 or (name != "buildah" and not proc.stdout.strip()):
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        return f"{name} found at {path} but not usable: {detail[-1] if detail else f'exit {proc.returncode}'}"
    return None


def detect_builder(engines: tuple[str, ...] = ENGINES, *, timeout_s: float = 10.0) -> Detection:
    """The first engine on PATH whose daemon/service answers; else why none does."""
    reasons = []
    for name in engines:
        path = shutil.which(name)
        if path is None:
            continue
        reason = _probe(name, path, timeout_s)
        if reason is None:
            return Detection(Builder(name, path), f"using {name} ({path})")
        reasons.append(reason)
    if not reasons:
        return Detection(None, "no container engine found (looked for " + ", ".join(engines) + " on PATH)")
    return Detection(None, "; ".join(reasons))


def build_image(
    builder: Builder, context_dir: Path, tag: str, *, platform: str | None = None, quiet: bool = False
) -> str:
    """Build and tag ``tag`` from ``context_dir``; returns the tag. Output streams to stderr unless quiet."""
    argv = builder.build_argv(context_dir, tag, platform=platform)
    out = subprocess.PIPE if quiet else sys.stderr
    proc = subprocess.run(
        argv, stdout=out, stderr=subprocess.PIPE if quiet else sys.stderr, text=True, check=False
    )
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-5:] if quiet else []
        raise BuildError(
            "--image",
            f"{builder.name} build failed (exit {proc.returncode})"
            + (": " + " | ".join(tail) if tail else ""),
            hint=f"run it yourself to see the full output: {' '.join(argv)}",
        )
    return tag
