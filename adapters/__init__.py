"""Framework adapters: a plain registry from Dockfile ``agent.framework`` to an adapter.

Adapters are imported lazily (a function image only pays for the framework it runs).
Third-party adapters register under the ``agentdock.adapters`` entry-point group.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from agentdock.errors import UnsupportedFrameworkError

from .base import Adapter, Event, EventType, RunContext, ToolCheck, ToolHook

ADAPTERS: dict[str, str] = {
    "langgraph": "agentdock.adapters.langgraph:LangGraphAdapter",
    "langchain": "agentdock.adapters.langchain:LangChainAdapter",
    "callable": "agentdock.adapters.callable_:CallableAdapter",
}
ENTRY_POINT_GROUP = "agentdock.adapters"


def available_adapters() -> list[str]:
    """Built-in adapter names plus any installed through entry points."""
    names = set(ADAPTERS) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def get_adapter(framework: str) -> Adapter:
    """A fresh adapter instance for ``framework``; raises UnsupportedFrameworkError (4007)."""
    target = ADAPTERS.get(framework)
    if target is not None:
        module, _, attr = target.partition(":")
        cls: Any = getattr(importlib.import_module(module), attr)
    else:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == framework]
        if not found:
            raise UnsupportedFrameworkError(
                "agent.framework",
                f"framework {framework!r} is not supported; supported: {', '.join(available_adapters())}",
            )
        cls = found[0].load()
    adapter: Adapter = cls()
    return adapter


__all__ = [
    "ADAPTERS",
    "Adapter",
    "Event",
    "EventType",
    "RunContext",
    "ToolCheck",
    "ToolHook",
    "available_adapters",
    "get_adapter",
]
