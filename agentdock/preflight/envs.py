"""The image's Python environment, without the image: a virtual environment with exactly the
context's locked requirements (``pip install --require-hashes --no-deps`` semantics, via uv),
cached by the hash of requirements.txt + the wheel, so a second preflight of the same lock costs
nothing. Built in a temporary folder and renamed into place, so a half-built one is never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from agentdock.build.cache import cache_dir
from agentdock.build.flavours import MANIFEST_FILE, REQUIREMENTS_FILE
from agentdock.build.lock import DEFAULT_INDEX, uv_binary
from agentdock.errors import BuildError, PreflightFailed
from agentdock.settings import ENV_INDEX_URL


def read_manifest(context: Path) -> dict[str, Any]:
    """The context's manifest, checked: an image context must carry its lock and the agentdock
    wheel whose sha256 it records (a context without the wheel fails loudly here)."""
    try:
        manifest = json.loads((context / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildError(str(context), f"not a build context ({MANIFEST_FILE}: {exc})") from exc
    if not manifest.get("platform"):
        raise BuildError(
            str(context),
            f"the {manifest.get('flavour')} context is not an image context (no platform, no lock)",
            hint="preflight an image flavour: --target lambda, knative or cloudrun",
        )
    wheels = manifest.get("wheels") or {}
    if not any(Path(rel).name.startswith("agentdock-") for rel in wheels):
        raise BuildError(
            str(context), "the context records no agentdock wheel", hint="rebuild it: agentdock build"
        )
    for rel, digest in wheels.items():
        path = context / rel
        if not path.is_file():
            raise BuildError(
                str(path),
                "the agentdock wheel is missing from the context",
                hint="rebuild it: agentdock build",
            )
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise BuildError(
                str(path), "the wheel does not match the sha256 in the manifest", hint="rebuild it"
            )
    return manifest


def world_usable(path: str | Path) -> bool:
    """Whether a non-root user can reach and run ``path`` (every parent folder o+x)."""
    real = Path(path).resolve()
    return all(os.stat(p).st_mode & 0o001 for p in (real, *real.parents)) and os.access(real, os.X_OK)


def python_for(version: str) -> str:
    """An interpreter of the image's Python (major.minor) on this machine; one the sandbox's
    non-root user can run is preferred (a pyenv under /root is not)."""
    candidates = [
        c
        for c in (
            f"/usr/local/bin/python{version}",
            f"/usr/bin/python{version}",
            shutil.which(f"python{version}"),
        )
        if c and Path(c).is_file()
    ]
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        candidates.append(sys.executable)
    for found in candidates:
        if world_usable(found):
            return found
    if candidates:
        return candidates[0]
    raise PreflightFailed(
        "python",
        f"the image runs Python {version} and no python{version} is on this machine",
        hint=f"install Python {version} (e.g. `uv python install {version}`) and put it on PATH",
    )


def env_key(context: Path, python: str) -> str:
    h = hashlib.sha256((context / REQUIREMENTS_FILE).read_bytes())
    for wheel in sorted((context / "wheels").glob("*.whl")):
        h.update(wheel.name.encode() + hashlib.sha256(wheel.read_bytes()).digest())
    h.update(python.encode())
    return h.hexdigest()[:24]


def locked_env(context: Path, manifest: dict[str, Any]) -> tuple[Path, bool]:
    """(venv folder, whether it was cached). Raises PreflightFailed with the command to rerun."""
    python = python_for(str(manifest["platform"]["python"]))
    key = env_key(context, python) + "-v2"
    final = cache_dir("envs") / key
    if (final / ".complete").is_file():
        return final, True
    uv = uv_binary()
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
    index = os.environ.get(ENV_INDEX_URL) or DEFAULT_INDEX
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
    venv = [uv, "venv", "--quiet", "--no-config", "--python", python, str(tmp)]
    install = [
        uv, "pip", "install", "--quiet", "--no-config", "--python", str(tmp / "bin" / "python"),
        "--require-hashes", "--no-deps", "--compile-bytecode", "--default-index", index, "-r", REQUIREMENTS_FILE,
    ]  # fmt: skip
    try:
        for argv in (venv, install):
            proc = subprocess.run(argv, cwd=context, env=env, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = " | ".join(proc.stderr.strip().splitlines()[-6:])
                raise PreflightFailed(
                    "install",
                    f"installing the context's locked requirements failed: {tail}",
                    hint=f"reproduce: cd {context} && python{manifest['platform']['python']} -m venv /tmp/v && "
                    "/tmp/v/bin/pip install --require-hashes --no-deps -r requirements.txt",
                )
        (tmp / ".complete").write_text("ok\n")
        os.chmod(tmp, 0o755)
        if final.exists():  # another preflight finished first
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.rename(final)
    finally:
        if tmp.exists() and tmp != final:
            shutil.rmtree(tmp, ignore_errors=True)
    return final, False


def env_size(folder: Path) -> int:
    """Bytes on disk of an environment (the installed image size of the runtime)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
