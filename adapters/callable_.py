"""Callable adapter: a plain function is the agent (``framework: callable``).

The entrypoint is one of: a sync function, an async function, an async generator or a sync
generator taking the input dict; or a zero-arg factory returning one (called once at load).
If the function has a ``ctx`` parameter it also receives the ``RunContext``: a callable that
uses tools reports each one with ``await ctx.on_tool_start(name, args)`` before running it
(the runtime's policy engine may raise to deny it), and may add to ``ctx.usage``.

Results: a dict -> output fields by name; a ``str`` -> the single string output field.
Generators yield ``str`` tokens: streamed as ``token`` events as they come, joined for the
output. A plain function streams as ``start``, one ``token`` (when it returned text), ``end``.
Sync functions and generators run in a worker thread so they never block the event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from .base import Event, RunContext
from .events import Emit, pump
from .loading import LoadedAgent, base_config, build_once, import_object
from .mapping import io_fields, map_output

EXPECTED = "a function taking the input dict (sync, async or a generator), or a zero-arg factory"
_END = object()


def _takes_input(obj: Any) -> Callable[..., Any] | None:
    if not callable(obj):
        return None
    try:
        params = [p for p in inspect.signature(obj).parameters.values() if p.name != "ctx"]
    except (TypeError, ValueError):
        return None
    return obj if params else None


def _args(
    fn: Callable[..., Any], data: dict[str, Any], ctx: RunContext
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    wants_ctx = "ctx" in inspect.signature(fn).parameters
    return (dict(data),), ({"ctx": ctx} if wants_ctx else {})


async def _tokens(fn: Callable[..., Any], data: dict[str, Any], ctx: RunContext) -> AsyncIterator[Any]:
    """Run ``fn`` and yield its pieces: generator items, or its single return value."""
    args, kwargs = _args(fn, data, ctx)
    if inspect.isasyncgenfunction(fn):
        async for item in fn(*args, **kwargs):
            yield item
    elif inspect.isgeneratorfunction(fn):
        gen = fn(*args, **kwargs)
        while (item := await asyncio.to_thread(next, gen, _END)) is not _END:
            yield item
    elif inspect.iscoroutinefunction(fn):
        yield await fn(*args, **kwargs)
    else:
        yield await asyncio.to_thread(fn, *args, **kwargs)


def _is_stream(fn: Callable[..., Any]) -> bool:
    return inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn)


class CallableAdapter:
    name = "callable"

    def load(self, entrypoint: str, config: dict[str, Any]) -> LoadedAgent:
        """Import the function from ``config["base_dir"]`` (calling a zero-arg factory once)."""
        obj = import_object(entrypoint, config.get("base_dir", "."))
        return self.prepare(build_once(obj, _takes_input, entrypoint, EXPECTED), config)

    def prepare(self, fn: Any, config: dict[str, Any]) -> LoadedAgent:
        """Wrap an already imported function with the Dockfile's I/O fields."""
        io = io_fields(config.get("spec"), config.get("base_dir", "."), import_object)
        return LoadedAgent(fn, io, base_config(config), getattr(fn, "__name__", "agent"))

    async def invoke(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        loaded = agent if isinstance(agent, LoadedAgent) else self.prepare(agent, {})
        pieces = [item async for item in _tokens(loaded.runnable, input, ctx)]
        result = "".join(map(str, pieces)) if _is_stream(loaded.runnable) else pieces[0]
        return map_output(result, loaded.io)

    def stream(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> AsyncIterator[Event]:
        loaded = agent if isinstance(agent, LoadedAgent) else self.prepare(agent, {})
        return pump(lambda emit: self._run(loaded, input, ctx, emit))

    async def _run(self, loaded: LoadedAgent, data: dict[str, Any], ctx: RunContext, emit: Emit) -> None:
        fn = loaded.runnable
        emit(Event("start", {"run_id": str(ctx.config.get("run_id") or uuid.uuid4())}))
        pieces: list[Any] = []
        async for item in _tokens(fn, data, ctx):
            pieces.append(item)
            if isinstance(item, str) and item:
                emit(Event("token", {"text": item}))
        result = "".join(map(str, pieces)) if _is_stream(fn) else pieces[0]
        emit(Event("end", {"output": map_output(result, loaded.io)}))
