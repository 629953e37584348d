"""Wire formats of the LangGraph Server API, as ``langgraph_sdk`` sends and parses them.

Values leave as JSON: LangChain messages as their ``model_dump()`` (``type``, ``content``,
``id``, ...), ``Interrupt`` as ``{value, id}``, other pydantic models and dataclasses as their
fields; anything else as ``str``. Checkpoints are ``{thread_id, checkpoint_ns, checkpoint_id,
checkpoint_map}``; a ``StateSnapshot`` becomes a ``ThreadState``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pydantic_core
from pydantic import BaseModel

PRIVATE = "agentdock_"  # checkpoint metadata keys AgentDock keeps for itself (owner, ...)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if type(value).__name__ == "Interrupt" and hasattr(value, "value"):
        return {"value": value.value, "id": getattr(value, "id", None)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def dumps(value: Any) -> bytes:
    return pydantic_core.to_json(value, fallback=_default)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (dicts, lists, strings, numbers), through the rules above."""
    return pydantic_core.from_json(dumps(value))


def checkpoint_of(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable") or {}
    return {
        "thread_id": conf.get("thread_id"),
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf.get("checkpoint_id"),
        "checkpoint_map": conf.get("checkpoint_map"),
    }


def interrupts_of(snapshot: Any) -> list[dict[str, Any]]:
    return [jsonable(i) for i in getattr(snapshot, "interrupts", ()) or ()]


def thread_state(snapshot: Any) -> dict[str, Any]:
    """A LangGraph ``StateSnapshot`` as the SDK's ``ThreadState``."""
    tasks = []
    for task in snapshot.tasks or ():
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "path": jsonable(list(getattr(task, "path", ()) or ())),
                "error": str(task.error) if task.error else None,
                "interrupts": [jsonable(i) for i in task.interrupts or ()],
                "checkpoint": None,
                "state": None,
                "result": jsonable(task.result) if getattr(task, "result", None) is not None else None,
            }
        )
    created = snapshot.created_at
    checkpoint, parent = checkpoint_of(snapshot.config), checkpoint_of(snapshot.parent_config)
    return {
        "values": jsonable(snapshot.values),
        "next": list(snapshot.next or ()),
        "checkpoint": checkpoint,
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "metadata": {k: v for k, v in jsonable(snapshot.metadata or {}).items() if not k.startswith(PRIVATE)},
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "parent_checkpoint": parent,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
        "tasks": tasks,
        "interrupts": interrupts_of(snapshot),
    }


def assistant(agent: str, description: str | None, created_at: str, version: str) -> dict[str, Any]:
    """The one assistant an AgentDock endpoint serves: id = graph id = the agent name."""
    return {
        "assistant_id": agent,
        "graph_id": agent,
        "config": {},
        "context": {},
        "created_at": created_at,
        "updated_at": created_at,
        "metadata": {"created_by": "agentdock", "agentdock_version": version},
        "version": 1,
        "name": agent,
        "description": description,
    }
