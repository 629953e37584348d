"""Importing an entrypoint from a Dockfile's folder, the way the runtime keeps it: once per process.

``base_dir`` goes to the front of ``sys.path`` and stays there (the agent's own modules import
their siblings). Several agents in one process (tests, a dev server) often share module names
(``agent.py``); a cached module of that name from a *different* folder is dropped first so each
Dockfile gets its own code.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdock.errors import EntrypointNotFoundError

from .mapping import IOFields

ENTRYPOINT_PATH = "agent.entrypoint"


@dataclass(frozen=True)
class LoadedAgent:
    """What ``Adapter.load`` returns: the framework object plus what every run needs.

    Frozen and shared by all concurrent requests; per-run state lives in the run's config.
    """

    runnable: Any
    io: IOFields
    base_config: dict[str, Any] = field(default_factory=dict)
    name: str = "agent"


def _split(dotted: str) -> tuple[str, str]:
    if ":" in dotted:
        module, _, attr = dotted.partition(":")
    else:
        module, _, attr = dotted.rpartition(".")
    if not module or not attr:
        raise EntrypointNotFoundError(ENTRYPOINT_PATH, f"{dotted!r} is not 'module.path:callable'")
    return module, attr


def _inside(path: str | None, folder: Path) -> bool:
    if not path:
        return False
    try:
        Path(path).resolve().relative_to(folder)
    except ValueError:
        return False
    return True


def _drop_foreign(module: str, folder: Path) -> None:
    """Forget a cached top-level module (and its submodules) that was imported from elsewhere."""
    top = module.split(".", 1)[0]
    cached = sys.modules.get(top)
    if cached is None or _inside(getattr(cached, "__file__", None), folder):
        return
    if not (folder / top).exists() and not (folder / f"{top}.py").exists():
        return  # the name is not the Dockfile folder's own module: keep the installed one
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def import_object(dotted: str, base_dir: str | Path, *, path_hint: str = ENTRYPOINT_PATH) -> Any:
    """Import ``module.path:name`` (or ``module.path.name``) with ``base_dir`` on ``sys.path``."""
    module_name, attr = _split(dotted)
    folder = Path(base_dir).resolve()
    if sys.path[:1] != [str(folder)]:  # first, so the folder's own modules win over other agents'
        while str(folder) in sys.path:
            sys.path.remove(str(folder))
        sys.path.insert(0, str(folder))
    _drop_foreign(module_name, folder)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise EntrypointNotFoundError(
            path_hint, f"importing {module_name!r} from {folder} failed: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise EntrypointNotFoundError(
            path_hint, f"module {module_name!r} has no attribute {attr!r}"
        ) from None


def is_factory(obj: Any) -> bool:
    """A plain function or class callable with no arguments: called once at load to build the agent."""
    if not callable(obj):
        return False
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)


def build_once(obj: Any, accept: Callable[[Any], Any | None], entrypoint: str, expected: str) -> Any:
    """``accept(obj)`` or, if ``obj`` is a zero-arg factory, ``accept(obj())``; else a clear 4003."""
    ready = accept(obj)
    if ready is not None:
        return ready
    if is_factory(obj):
        try:
            made = obj()
        except Exception as exc:
            raise EntrypointNotFoundError(
                ENTRYPOINT_PATH, f"calling {entrypoint}() failed: {type(exc).__name__}: {exc}"
            ) from exc
        ready = accept(made)
        if ready is not None:
            return ready
        raise EntrypointNotFoundError(
            ENTRYPOINT_PATH, f"{entrypoint}() returned {type(made).__name__}, expected {expected}"
        )
    raise EntrypointNotFoundError(
        ENTRYPOINT_PATH, f"{entrypoint} is a {type(obj).__name__}, expected {expected}"
    )


RUNNABLE_CONFIG_KEYS = (
    "tags",
    "metadata",
    "callbacks",
    "run_name",
    "max_concurrency",
    "recursion_limit",
    "configurable",
)


def base_config(config: dict[str, Any]) -> dict[str, Any]:
    """The RunnableConfig keys a Dockfile's ``arguments`` may set (e.g. ``recursion_limit``)."""
    return {k: config[k] for k in RUNNABLE_CONFIG_KEYS if k in config}
