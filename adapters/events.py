"""Running a producer in its own task and yielding its events as they happen.

Tool events come from callbacks while tokens come from the framework's stream; both call
``emit`` on the same queue, so the consumer sees them in the order they happened, without
buffering. If the producer fails, the consumer re-raises the same exception object; if the
consumer stops early (client gone), the producer task is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from .base import Event

Emit = Callable[[Event], None]


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_DONE = object()


async def pump(produce: Callable[[Emit], Awaitable[None]]) -> AsyncIterator[Event]:
    """Yield every event ``produce(emit)`` emits, as soon as it is emitted."""
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def run() -> None:
        try:
            await produce(queue.put_nowait)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            queue.put_nowait(_Failed(exc))
        else:
            queue.put_nowait(_DONE)

    task = asyncio.create_task(run())
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            assert isinstance(item, Event)
            yield item
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
