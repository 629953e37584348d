"""Importing an entrypoint from a Dockfile's folder, the way the runtime keeps it: once per process.

``base_dir`` goes to the front of ``sys.path`` and stays there (the agent's own modules import
their siblings). Several agents in one process (tests, a dev server) often share module names
(``agent.py``); a cached module of that name from a *different* folder is dropped first so each
Dockfile gets its own code.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdock.errors import AgentLoadError, EntrypointNotFoundError
from agentdock.spec.imports import import_object as _import_object

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


def import_object(dotted: str, base_dir: str | Path, *, path_hint: str = ENTRYPOINT_PATH) -> Any:
    """Import ``module.path:name`` (or ``module.path.name``) with ``base_dir`` first on ``sys.path``."""
    return _import_object(dotted, base_dir, path=path_hint)


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
            # The entrypoint was found; the user's own code failed: say so, with their traceback.
            raise AgentLoadError(
                ENTRYPOINT_PATH,
                f"{entrypoint}() raised {type(exc).__name__}: {exc}",
                hint="your code's traceback (most recent call last):\n" + user_traceback(exc),
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


_OURS = (str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "agentdock"))


def user_traceback(exc: BaseException, limit: int = 12) -> str:
    """The frames of ``exc``'s traceback that are not AgentDock's own (the user's code and the
    libraries it called), formatted like Python does; the last ``limit`` of them."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_OURS)]
    lines = traceback.format_list(frames[-limit:])
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()
