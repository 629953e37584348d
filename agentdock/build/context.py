"""Gather a build context's inputs from disk, render it (``render.py``, pure) and write it.

``prepare`` reads (the agent's folder, its requirements, an optional wheel) and renders in
memory: enough for ``--dry-run`` and for the content hash. ``write_context`` is the only writer.
``build_context`` does both and returns the ``Artifact`` every target deploys.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import agentdock
from agentdock.build import flavours as F
from agentdock.build.ignore import SourceFilter, always_excluded
from agentdock.build.lock import lock_requirements
from agentdock.build.render import RenderInput, content_hash, render_context
from agentdock.build.requirements import agent_requirements, render_requirements, runtime_extras
from agentdock.build.wheel import agentdock_wheel
from agentdock.errors import BuildError
from agentdock.artifact import Artifact

if TYPE_CHECKING:
    from agentdock.spec import Loaded

_SECRET_FIELDS = (("auth", "jwt", "secret_key"), ("observability", "langfuse", "secret_key"))


@dataclass(frozen=True)
class Rendered:
    """A context in memory: files, hash, and what the user should know about it."""

    agent: str
    flavour: str
    files: dict[str, bytes]
    content_hash: str
    warnings: tuple[str, ...]
    base_dir: Path


def collect_sources(
    base_dir: Path, flt: SourceFilter, *, skip: Sequence[Path] = ()
) -> tuple[dict[str, bytes], list[str]]:
    """The agent's files (relative POSIX path -> bytes), sorted, filtered by ``flt``. Symlinked
    folders are not followed; symlinked files are read only when they point inside ``base_dir``."""
    root = base_dir.resolve()
    skipped = {p.resolve() for p in skip}
    files: dict[str, bytes] = {}
    warnings: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        keep = []
        for d in sorted(dirnames):
            rel = f"{rel_dir}/{d}" if rel_dir != "." else d
            full = here / d
            if full.is_symlink():
                warnings.append(f"skipped symlinked folder {rel}")
            elif full.resolve() in skipped or (full / "pyvenv.cfg").exists() or flt.prune_dir(rel):
                if flt.secret_withheld(rel) and not always_excluded(rel):
                    warnings.append(f"left out {rel}/: its name looks like it holds secrets")
                continue
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}" if rel_dir != "." else name
            full = here / name
            if not flt.wanted(rel):
                if flt.secret_withheld(rel) and not always_excluded(rel):
                    warnings.append(
                        f"left out {rel}: its name looks like it holds secrets "
                        f"(add '!{rel}' to .dockerignore to ship it)"
                    )
                continue
            if full.is_symlink() and not full.resolve().is_relative_to(root):
                warnings.append(f"skipped {rel}: symlink to a file outside the agent folder")
                continue
            if not full.is_file():
                continue
            files[rel] = full.read_bytes()
    return dict(sorted(files.items())), warnings


def _literal_secrets(raw: Mapping[str, Any]) -> list[str]:
    found = []
    for path in _SECRET_FIELDS:
        node: Any = raw
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, str) and node and "${" not in node:
            found.append(
                f"{'.'.join(path)} is a literal value and is written into the context as is; "
                f"use a reference such as ${{{path[-1].upper()}}} so it resolves at run time"
            )
    return found


def prepare(
    loaded: Loaded,
    *,
    flavour: str,
    exclude: Sequence[str] = (),
    include: Sequence[str] | None = None,
    wheel: str | Path | None = None,
    skip: Sequence[Path] = (),
    base_image: str | None = None,
    store: str | None = None,
) -> Rendered:
    """Read the inputs of ``loaded``'s agent and render its context for ``flavour`` in memory.
    Image flavours carry the agentdock wheel and a hash-locked requirements.txt; the local flavour
    runs in this environment and lists its requirements unlocked. ``store`` is the deploy's own
    metadata store: when the function will read it (no ``deploy.store``, not local), the image
    carries its driver (``requirements.runtime_extras``)."""
    if flavour not in F.FLAVOURS:
        raise BuildError("flavour", f"unknown flavour {flavour!r}", hint="one of: " + ", ".join(F.FLAVOURS))
    base_dir = Path(loaded.base_dir)
    ignore_file = base_dir / ".dockerignore"
    flt = SourceFilter.build(
        dockerignore=ignore_file.read_text(encoding="utf-8") if ignore_file.is_file() else None,
        exclude=exclude,
        include=include,
    )
    sources, warnings = collect_sources(base_dir, flt, skip=skip)
    agent_lines, req_warnings = agent_requirements(base_dir)
    extras = runtime_extras(flavour, loaded.spec, store)
    lock_warnings: tuple[str, ...] = ()
    if flavour == F.LOCAL:
        platform, wheels = None, {}
        requirements = render_requirements(
            f"agentdock[{','.join(extras)}]=={agentdock.__version__}", agent_lines
        )
    else:
        platform = F.platform_for(flavour, loaded.spec, base_image)
        built = agentdock_wheel(wheel)
        lock = lock_requirements(
            built,
            f"{F.WHEELS_DIR}/{built.name}",
            extras=extras,
            agent_lines=agent_lines,
            python=platform.python,
        )
        wheels, requirements, lock_warnings = {built.name: built.data}, lock.text, lock.warnings
    inp = RenderInput(
        agent=loaded.spec.agent.name,
        flavour=flavour,
        spec_raw=loaded.raw,
        sources=sources,
        requirements=requirements,
        agentdock_version=agentdock.__version__,
        wheels=wheels,
        platform=platform,
        extras=extras,
    )
    files = render_context(inp)
    notes = (
        *lock_warnings,
        *req_warnings,
        *warnings,
        *_literal_secrets(loaded.raw),
    )
    return Rendered(inp.agent, flavour, files, content_hash(files), tuple(notes), base_dir)


def default_out_dir(agent: str, flavour: str, digest: str) -> Path:
    """Content-addressed: ``<AGENTDOCK_HOME>/contexts/<agent>/<flavour>-<hash12>``."""
    from agentdock.store import agentdock_home

    return agentdock_home() / "contexts" / agent / f"{flavour}-{digest.split(':', 1)[-1][:12]}"


def read_context(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative POSIX path -> bytes): to re-hash a written context."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def write_context(rendered: Rendered, out_dir: Path) -> Path:
    """Write the files to ``out_dir`` atomically (temp folder + rename). An existing folder is
    replaced only when it is itself a build context (has the manifest) or is empty."""
    out_dir = out_dir.expanduser().resolve()
    if out_dir.exists():
        if (out_dir / F.MANIFEST_FILE).is_file() and content_hash(
            read_context(out_dir)
        ) == rendered.content_hash:
            return out_dir  # already there, byte for byte
        if any(out_dir.iterdir()) and not (out_dir / F.MANIFEST_FILE).is_file():
            raise BuildError(
                str(out_dir),
                "folder exists and is not an agentdock build context",
                hint="pick an empty --out folder",
            )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    tmp.chmod(0o755)  # as an image's COPY leaves it: readable by the function's non-root user
    try:
        for rel, data in rendered.files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o644)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def artifact_for(rendered: Rendered, folder: Path, image: str | None = None) -> Artifact:
    return Artifact(
        context_dir=str(folder), content_hash=rendered.content_hash, image=image, flavour=rendered.flavour
    )


def build_context(
    dockfile: str | Path,
    *,
    flavour: str,
    out_dir: Path | None = None,
    env: dict[str, str] | None = None,
    exclude: Sequence[str] = (),
    include: Sequence[str] | None = None,
    wheel: str | Path | None = None,
    loaded: Loaded | None = None,
    base_image: str | None = None,
    store: str | None = None,
) -> Artifact:
    """Render and write the context of ``dockfile`` for ``flavour``; the content hash is the artifact
    id. ``${VAR}`` references may stay unresolved: they are resolved by the running function.
    Pass ``loaded`` when the caller already loaded the Dockfile (the CLI validates first);
    ``store`` is the deploy's metadata store (see ``prepare``)."""
    if loaded is None:
        from agentdock.spec import load_dockfile

        loaded = load_dockfile(dockfile, env=env, allow_unresolved=True)
    rendered = prepare(
        loaded,
        flavour=flavour,
        exclude=exclude,
        include=include,
        wheel=wheel,
        skip=skip_dirs(out_dir),
        base_image=base_image,
        store=store,
    )
    target = (
        out_dir if out_dir is not None else default_out_dir(rendered.agent, flavour, rendered.content_hash)
    )
    return artifact_for(rendered, write_context(rendered, target))


def skip_dirs(out_dir: Path | None) -> list[Path]:
    """Folders never copied as agent source: the output folder and AGENTDOCK_HOME (either may sit
    inside the agent's folder)."""
    from agentdock.store import agentdock_home

    return [p for p in (out_dir, agentdock_home()) if p is not None]
