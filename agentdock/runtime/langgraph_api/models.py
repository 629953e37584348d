"""Request bodies of the LangGraph API, as ``langgraph_sdk`` sends them.

Fields the SDK may send that AgentDock does not act on (``webhook``, ``feedback_keys``,
``durability``, ``langsmith_tracer``, ...) are accepted and ignored (``extra="allow"``), so a
client written for the reference server works unchanged. A wrong type is a 422 naming the field.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentdock.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)
STREAM_MODES = ("values", "updates", "messages", "messages-tuple", "events", "custom", "debug")
StreamMode = Literal["values", "updates", "messages", "messages-tuple", "events", "custom", "debug"]


class _Body(BaseModel):
    # defer_build: each model's validator is built on its first request, not at import
    # (~10 ms of every cold start, for routes most agents never see).
    model_config = ConfigDict(extra="allow", defer_build=True)


class RunCreate(_Body):
    """POST /runs/..., /threads/{id}/runs/...: what to run and how to stream it."""

    assistant_id: str
    input: dict[str, Any] | None = None
    command: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    stream_mode: StreamMode | list[StreamMode] | None = None
    stream_subgraphs: bool | None = None
    checkpoint_id: str | None = None
    interrupt_before: list[str] | Literal["*"] | None = None
    interrupt_after: list[str] | Literal["*"] | None = None
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None

    def modes(self) -> list[str]:
        mode = self.stream_mode
        if mode is None:
            return ["values"]
        return [mode] if isinstance(mode, str) else list(mode) or ["values"]


class RunList(_Body):
    """GET /threads/{id}/runs query."""

    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    status: str | None = None


class CancelMany(_Body):
    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None


class ThreadCreate(_Body):
    thread_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    if_exists: Literal["raise", "do_nothing"] | None = None


class ThreadSearch(_Body):
    metadata: dict[str, Any] | None = None
    status: str | None = None
    ids: list[str] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class StateUpdate(_Body):
    values: dict[str, Any] | list[Any] | None = None
    as_node: str | None = None
    checkpoint_id: str | None = None
    checkpoint: dict[str, Any] | None = None


class StateAt(_Body):
    """POST /threads/{id}/state/checkpoint."""

    checkpoint: dict[str, Any] | None = None
    subgraphs: bool | None = None


class HistoryQuery(_Body):
    limit: int = Field(default=10, ge=1, le=1000)
    before: dict[str, Any] | str | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None


class AssistantSearch(_Body):
    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


def parse(model: type[M], body: bytes) -> M:
    """``body`` as ``model``; 422 with the first failing field otherwise."""
    try:
        data = pydantic_core.from_json(body) if body else {}
    except ValueError:
        raise ValidationFailed("the request body is not valid JSON", path="body") from None
    return validate(model, data)


def validate(model: type[M], data: Any) -> M:
    """``data`` (a parsed body or query parameters) as ``model``; 422 naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationFailed(f"{where}: {first['msg']}", path=where) from None
