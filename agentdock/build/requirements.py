"""The pinned requirements a build context installs: ``agentdock[runtime]`` plus the agent's own.

How agentdock itself is resolved (in this order):

1. a wheel: ``--wheel PATH`` / env ``AGENTDOCK_WHEEL`` is copied into the context under ``wheels/``
   and installed from there (``./wheels/agentdock-X-py3-none-any.whl[runtime]``). Use this to ship a
   source checkout or an unreleased build (``make wheel`` builds one into ``dist/``);
2. otherwise the released package pinned to this exact version, ``agentdock[runtime]==X``.

When agentdock runs from a source checkout and no wheel is given, the build says so in a warning:
the image would install the released version, not the checkout.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import agentdock
from agentdock.build.flavours import WHEELS_DIR
from agentdock.errors import BuildError
from agentdock.settings import ENV_WHEEL

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class AgentdockPin:
    line: str
    wheels: dict[str, bytes] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def source_checkout() -> Path | None:
    """The repository folder when agentdock is imported from a checkout (editable/dev install)."""
    root = Path(agentdock.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "agentdock"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def resolve_agentdock(wheel: str | Path | None = None) -> AgentdockPin:
    """Decide how the image installs agentdock (see the module docstring)."""
    version = agentdock.__version__
    wheel = wheel or os.environ.get(ENV_WHEEL) or None
    if wheel:
        path = Path(wheel).expanduser()
        if not path.is_file() or path.suffix != ".whl":
            raise BuildError(ENV_WHEEL, f"{path} is not a wheel file", hint="build one with `make wheel`")
        if not path.name.startswith(f"agentdock-{version}-"):
            raise BuildError(
                ENV_WHEEL,
                f"{path.name} is not agentdock {version}",
                hint="build a wheel of this version with `make wheel`",
            )
        return AgentdockPin(f"./{WHEELS_DIR}/{path.name}[runtime]", {path.name: path.read_bytes()})
    warnings: tuple[str, ...] = ()
    if source_checkout() is not None:
        warnings = (
            f"agentdock runs from a source checkout: an image built from this context installs the released "
            f"agentdock[runtime]=={version}; to ship this checkout, run `make wheel` and set "
            f"{ENV_WHEEL}=dist/agentdock-{version}-py3-none-any.whl",
        )
    return AgentdockPin(f"agentdock[runtime]=={version}", {}, warnings)


def _requirement_name(line: str) -> str | None:
    m = _NAME.match(line)
    return m.group(1).lower().replace("_", "-") if m and not line.lstrip().startswith("-") else None


def _read_requirements_file(path: Path, base_dir: Path, seen: set[Path]) -> tuple[list[str], list[str]]:
    if path in seen:
        return [], []
    seen.add(path)
    lines: list[str] = []
    warnings: list[str] = []
    rel = path.relative_to(base_dir).as_posix() if path.is_relative_to(base_dir) else str(path)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement")):
            ref = line.split(None, 1)[1] if " " in line else line.split("=", 1)[-1]
            more, warn = _read_requirements_file((path.parent / ref.strip()).resolve(), base_dir, seen)
            lines += more
            warnings += warn
            continue
        if line.startswith(("-e", "--editable", "-c", "--constraint")):
            raise BuildError(
                f"{rel}:{number}",
                f"'{line}' cannot be installed inside an image",
                hint="pin the package (name==version) or ship it as a wheel in the agent folder",
            )
        if line.startswith(("./", "../", "/", "file:")):
            warnings.append(
                f"{rel}:{number}: local path requirement '{line}' may not resolve inside the image"
            )
        elif not line.startswith("-") and "==" not in line and "@" not in line:
            warnings.append(
                f"{rel}:{number}: '{line}' is not pinned (use name==version for reproducible images)"
            )
        lines.append(line)
    return lines, warnings


def agent_requirements(base_dir: Path) -> tuple[list[str], list[str]]:
    """The agent's own dependencies: ``requirements.txt`` beside the Dockfile, else the
    ``[project].dependencies`` of a ``pyproject.toml`` there. Returns (lines, warnings)."""
    req = base_dir / "requirements.txt"
    if req.is_file():
        return _read_requirements_file(req.resolve(), base_dir.resolve(), set())
    pyproject = base_dir / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise BuildError("pyproject.toml", f"not valid TOML: {exc}") from exc
        deps = [str(d).strip() for d in data.get("project", {}).get("dependencies", [])]
        warnings = [f"pyproject.toml: '{d}' is not pinned" for d in deps if "==" not in d and "@" not in d]
        return deps, warnings
    return [], []


def render_requirements(agentdock_line: str, agent_lines: list[str]) -> str:
    """requirements.txt text: agentdock first, then the agent's lines in their order, without
    duplicates and without any other agentdock pin (ours wins). Pure."""
    out = [
        "# Generated by agentdock build. agentdock first, then the agent's own dependencies.",
        agentdock_line,
    ]
    seen = {"agentdock"}
    for line in agent_lines:
        name = _requirement_name(line)
        if name is not None:
            if name in seen:
                continue
            seen.add(name)
        elif line in out:
            continue
        out.append(line)
    return "\n".join(out) + "\n"
