"""The adapter contract: how the runtime loads, invokes and streams any agent framework.

An adapter is a small class with three methods. Events are normalised so the runtime,
the policy engine and telemetry never look at framework objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

EventType = Literal["start", "token", "update", "tool_start", "tool_end", "usage", "end", "error"]

# Called before a tool body runs; raising (e.g. errors.ToolDenied) aborts the run.
ToolHook = Callable[[str, dict[str, Any]], Awaitable[None]]
# The same check as a plain function, safe to call from any thread (see RunContext.check_tool).
ToolCheck = Callable[[str, dict[str, Any]], None]


class StepRecorder(Protocol):
    """Where an adapter reports a run's steps when the runtime traces it (``RunContext.steps``):
    graph nodes, tool calls and model calls, keyed by the framework's run id. The runtime's
    implementation (``agentdock.telemetry.recorder``) only appends plain records; the adapter
    calls it from the callback handler it already has, so tracing adds no handler of its own."""

    def node_start(self, run_id: Any, name: str) -> None: ...

    def tool_start(self, run_id: Any, name: str, args: Any) -> None: ...

    def model_start(self, run_id: Any, model: str | None) -> None: ...

    def model_end(self, run_id: Any, input_tokens: int, output_tokens: int, model: str | None) -> None: ...

    def end(self, run_id: Any, output: Any = None, error: BaseException | None = None) -> None:
        """A node, tool or model call ended (``output``: a tool's result)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One normalised event. ``data`` by type:

    start {run_id}; token {text}; update {node, keys}; tool_start {name, args};
    tool_end {name, output}; usage {input_tokens, output_tokens}; end {output}; error {error, detail}.

    Adapters emit every type but ``error``: when a run fails they raise the exception unchanged
    and the runtime renders it as the ``error`` event (with the HTTP error's code and envelope).
    """

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RunContext:
    """Per-request context handed to the adapter.

    ``check_tool``, when set, is ``on_tool_start``'s synchronous twin (same decision, same
    events): an adapter may call it instead of awaiting the hook where awaiting would cost a
    round trip to the run's event loop (a sync tool on a worker thread).
    """

    trace_id: str
    on_tool_start: ToolHook | None = None
    check_tool: ToolCheck | None = None
    config: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0})
    steps: StepRecorder | None = None  # the run is traced: report nodes, tools and model calls


class Adapter(Protocol):
    name: str

    def load(self, entrypoint: str, config: dict[str, Any]) -> Any:
        """Import the entrypoint and return a ready agent (built once per process)."""

    async def invoke(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        """Run to completion; return the output mapped to the declared output fields."""

    def stream(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> AsyncIterator[Event]:
        """Run and yield normalised events as they happen: ``start`` first, ``end`` (with the output)
        last. On failure (a tool denied by ``ctx.on_tool_start`` included) the iterator raises the
        exception unchanged instead; the runtime turns it into the ``error`` event."""
