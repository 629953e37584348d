"""Render a build context: pure functions from inputs to ``{relative path: bytes}``.

No I/O except reading the package's own Jinja2 templates; no clock, no randomness, no absolute
paths in any output, so the same inputs always give the same bytes and the same content hash.
``context.py`` gathers the inputs and writes the result; the CDK construct and the targets reuse
this same rendering.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from agentdock.build import flavours as F
from agentdock.errors import BuildError

_DOCKERFILES = {
    F.LOCAL: "Dockerfile.uvicorn.j2",
    F.KNATIVE: "Dockerfile.uvicorn.j2",
    F.CLOUDRUN: "Dockerfile.uvicorn.j2",
    F.LAMBDA_STREAM: "Dockerfile.lambda-stream.j2",
    F.LAMBDA_BUFFERED: "Dockerfile.lambda-buffered.j2",
}


@dataclass(frozen=True)
class RenderInput:
    """Everything a context is made of. ``sources`` are the agent's files relative to its folder;
    ``spec_raw`` is the frozen spec (``Loaded.raw``: ``${VAR}`` references kept)."""

    agent: str
    flavour: str
    spec_raw: Mapping[str, Any]
    sources: Mapping[str, bytes]
    requirements: str
    agentdock_version: str
    wheels: Mapping[str, bytes] = field(default_factory=dict)
    # None only for the local flavour (it runs in the operator's environment, unlocked).
    platform: F.Platform | None = None
    extras: tuple[str, ...] = ("runtime",)


@lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    folder = resources.files("agentdock.templates") / "build"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _root(flavour: str) -> str:
    return "/var/task" if flavour.startswith("lambda") else "/app"


def template_vars(inp: RenderInput) -> dict[str, Any]:
    """The values every template sees (also written to the context manifest)."""
    mode = F.invoke_mode_for(inp.flavour)
    port = F.CONTAINER_PORT
    return {
        "agent": inp.agent,
        "flavour": inp.flavour,
        "agentdock_version": inp.agentdock_version,
        "base_image": inp.platform.base_image if inp.platform else F.default_base(inp.flavour),
        "locked": inp.platform is not None,
        "lwa_image": F.LWA_IMAGE,
        "lambda_handler": F.LAMBDA_HANDLER,
        "invoke_mode": mode.value if mode else None,
        "lwa_invoke_mode": mode.lwa_env if mode else None,
        "health_path": F.HEALTH_PATH,
        "port": port,
        "root": _root(inp.flavour),
        "uid": F.NON_ROOT_UID,
        "spec_file": F.SPEC_FILE,
        "agent_dir": F.AGENT_DIR,
        "entry_module": F.ENTRY_MODULE,
        "entry_app": F.ENTRY_APP,
        "manifest_file": F.MANIFEST_FILE,
        "wheels_dir": F.WHEELS_DIR,
        "wheels": sorted(inp.wheels),
        "serve_argv_port_env": " ".join(F.serve_argv(host="0.0.0.0", port=f"${{PORT:-{port}}}")),
        "serve_argv_lwa": " ".join(F.serve_argv(host="127.0.0.1", port=f"${{AWS_LWA_PORT:-{port}}}")),
    }


def render_dockerfile(inp: RenderInput) -> str:
    if inp.flavour not in _DOCKERFILES:
        raise BuildError(
            "flavour", f"unknown flavour {inp.flavour!r}", hint="one of: " + ", ".join(F.FLAVOURS)
        )
    return str(_env().get_template(_DOCKERFILES[inp.flavour]).render(**template_vars(inp)))


def render_entry(inp: RenderInput) -> str:
    return str(_env().get_template("entry.py.j2").render(**template_vars(inp)))


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.date | _dt.datetime | _dt.time):
        return value.isoformat()
    raise BuildError("spec", f"value of type {type(value).__name__} cannot be frozen to JSON")


def frozen_spec_json(raw: Mapping[str, Any]) -> bytes:
    """The frozen spec as canonical JSON (sorted keys) so its bytes, and the hash, are stable."""
    return (
        json.dumps(raw, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default) + "\n"
    ).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(inp: RenderInput) -> dict[str, Any]:
    """What the context is and what it needs from the platform, for tools, the local target and
    the preflight (no timestamps, no host paths)."""
    mode = F.invoke_mode_for(inp.flavour)
    plat = inp.platform
    return {
        "platform": (
            {
                "arch": plat.arch,
                "docker_platform": plat.docker_platform,
                "python": plat.python,
                "base_image": plat.base_image,
                "port": F.CONTAINER_PORT,
                "user": F.NON_ROOT_UID,
                "writable_paths": list(F.WRITABLE_PATHS),
                "root": _root(inp.flavour),
            }
            if plat
            else None
        ),
        "requirements": {
            "file": F.REQUIREMENTS_FILE,
            "sha256": _sha256(inp.requirements.encode()),
            "locked": plat is not None,
            "extras": list(inp.extras),
        },
        "wheels": {f"{F.WHEELS_DIR}/{name}": _sha256(data) for name, data in sorted(inp.wheels.items())},
        "agent": inp.agent,
        "flavour": inp.flavour,
        "agentdock_version": inp.agentdock_version,
        "entry": F.ENTRY_APP,
        "spec": F.SPEC_FILE,
        "invoke_mode": mode.value if mode else None,
        "command": (
            [F.LAMBDA_HANDLER]
            if inp.flavour == F.LAMBDA_BUFFERED
            else ["python", *F.serve_argv(host="0.0.0.0", port="$PORT")]
        ),
    }


def render_context(inp: RenderInput) -> dict[str, bytes]:
    """All files of the context, keyed by POSIX relative path. An image flavour without the
    agentdock wheel is refused: the image would ask the public index for ``agentdock``, a name
    that belongs to another project there."""
    if inp.platform is not None and not any(n.startswith("agentdock-") for n in inp.wheels):
        raise BuildError(
            "wheels",
            f"the {inp.flavour} context has no agentdock wheel",
            hint="contexts carry agentdock as a wheel; build with `agentdock build` (it builds one) or --wheel PATH",
        )
    files: dict[str, bytes] = {}
    for rel, data in inp.sources.items():
        files[f"{F.AGENT_DIR}/{rel}"] = data
    files[F.SPEC_FILE] = frozen_spec_json(inp.spec_raw)
    for name, data in inp.wheels.items():
        files[f"{F.WHEELS_DIR}/{name}"] = data
    files["Dockerfile"] = render_dockerfile(inp).encode()
    files[".dockerignore"] = str(_env().get_template("dockerignore.j2").render()).encode()
    files[f"{F.ENTRY_MODULE}.py"] = render_entry(inp).encode()
    files[F.REQUIREMENTS_FILE] = inp.requirements.encode()
    files[F.MANIFEST_FILE] = (json.dumps(manifest(inp), indent=2, sort_keys=True) + "\n").encode()
    return dict(sorted(files.items()))


def content_hash(files: Mapping[str, bytes]) -> str:
    """sha256 over the sorted relative paths and their bytes (length-prefixed, so no two different
    contexts can produce the same stream). This is the artifact id."""
    digest = hashlib.sha256()
    for rel in sorted(files):
        data = files[rel]
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return "sha256:" + digest.hexdigest()
