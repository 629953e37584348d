"""What a build context installs: the runtime extras the Dockfile and target need, and the
agent's own requirements (``requirements.txt`` or ``pyproject.toml`` beside the Dockfile).

Image flavours lock all of it with hashes (``lock.py``) and carry agentdock as a wheel
(``wheel.py``); the local flavour runs in the operator's environment and lists it unlocked.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from agentdock.build import flavours as F
from agentdock.build.function_store import image_store_url
from agentdock.errors import BuildError

if TYPE_CHECKING:
    from agentdock.spec.models import DockSpec

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

# pyproject extras a function image may add to ``runtime``, and the module each one provides.
EXTRA_MODULES = {
    "aws-runtime": "boto3",
    "lambda": "aws_lambda_powertools",
    "postgres": "psycopg",
    "threads-sqlite": "langgraph.checkpoint.sqlite",
    "langfuse": "langfuse",
}


def runtime_extras(flavour: str, spec: DockSpec, store: str | None = None) -> tuple[str, ...]:
    """``runtime`` plus what this Dockfile needs at start-up on this flavour, nothing else:
    boto3 for a DynamoDB store or DynamoDB threads, ``aws-sm://``/``ssm://`` secrets and every Lambda flavour (Lambda
    defaults to the DynamoDB store); Powertools on Lambda (JSON logs, EMF metrics); psycopg (and
    LangGraph's Postgres saver) for a Postgres store or thread URL; LangGraph's SQLite saver for
    threads on SQLite; the Langfuse SDK for Langfuse.

    The store is the one the function reads (``function_store.image_store_url``): the Dockfile's
    ``deploy.store``, else ``store``, the deploy's own (``--store``, remembered, ``AGENTDOCK_STORE``)
    when the function gets it. The local flavour runs with the operator's store and installs
    for the Dockfile's only."""
    deploy = spec.deploy
    dockfile_store = (deploy.store or "") if deploy else ""
    store = dockfile_store if flavour == F.LOCAL else image_store_url(dockfile_store, store)
    secrets = deploy.secrets.values() if deploy else ()
    threads = spec.state.url or store if spec.state and spec.state.checkpointer == "store" else ""
    extras = ["runtime"]
    if (
        flavour.startswith("lambda")
        or any(url.startswith("dynamodb:") for url in (store, threads))
        or any(str(ref).startswith(("aws-sm://", "ssm://")) for ref in secrets)
    ):
        extras.append("aws-runtime")
    if flavour.startswith("lambda"):
        extras.append("lambda")
    if any(url.startswith(("postgres:", "postgresql:")) for url in (store, threads)):
        extras.append("postgres")
    if threads.startswith("sqlite:"):
        extras.append("threads-sqlite")
    if spec.observability.langfuse is not None:
        extras.append("langfuse")
    return tuple(extras)


def startup_modules(flavour: str, spec: DockSpec, store: str | None = None) -> tuple[str, ...]:
    """Top-level modules the image imports at start-up (uvicorn flavours) or on the first event."""
    base = ["fastapi", "pydantic", "yaml", "jwt", "prometheus_client", "langchain_core", "langgraph"]
    base += ["mangum"] if flavour == F.LAMBDA_BUFFERED else ["uvicorn", "uvloop", "httptools", "websockets"]
    return (*base, *(EXTRA_MODULES[e] for e in runtime_extras(flavour, spec, store) if e in EXTRA_MODULES))


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
