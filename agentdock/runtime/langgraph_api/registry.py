"""Runs of this process: their records and their event logs, for ``join`` and ``Last-Event-ID``.

Every run (wait, stream or background) executes as its own asyncio task and appends its SSE
events to a log; HTTP responses only *follow* that log. So a client that drops a stream loses
nothing: ``GET /threads/{id}/runs/{run}/stream`` with ``Last-Event-ID: N`` replays from event
N+1 and then follows live. The log lives in this process (a bounded number of recent runs):
on a scaled-out service a join must reach the instance that runs the run, and on Lambda a run
does not outlive the response that started it (see docs/langgraph-api.md).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from agentdock.runtime.langgraph_api.wire import dumps, now_iso
from agentdock.runtime.runlog import EventLog

MAX_RUNS = 256  # recent runs kept for get/list/join; the oldest finished ones are dropped
FINAL = frozenset({"success", "error", "interrupted", "timeout"})


def new_id() -> str:
    """Time-ordered UUID (v7 layout) like the reference server's, so ids sort by creation."""
    value = uuid.uuid4().int & ~(0xFFFFFFFFFFFF << 80)
    value |= (time.time_ns() // 1_000_000 & 0xFFFFFFFFFFFF) << 80
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    return str(uuid.UUID(int=value))


@dataclass
class RunRecord:
    run_id: str
    thread_id: str | None
    assistant_id: str
    owner: str
    metadata: dict[str, Any]
    multitask_strategy: str = "enqueue"
    status: str = "pending"
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    log: EventLog = field(default_factory=EventLog)  # its SSE messages, for join and resume
    result: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = None

    @property
    def done(self) -> asyncio.Event:
        return self.log.done

    def wire(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.assistant_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status": self.status,
            "metadata": self.metadata,
            "multitask_strategy": self.multitask_strategy,
            "kwargs": {},
        }

    def set_status(self, status: str) -> None:
        self.status = status
        self.updated_at = now_iso()

    def append(self, event: str, data: Any) -> None:
        seq = self.log.last_id + 1
        self.log.push(b"event: %s\ndata: %s\nid: %d\n\n" % (event.encode(), dumps(data), seq))

    def finish(self, status: str) -> None:
        self.set_status(status)
        self.log.close()


class RunRegistry:
    """Recent runs by id, and one lock per thread so runs on a thread never overlap."""

    def __init__(self, max_runs: int = MAX_RUNS) -> None:
        self.max_runs = max_runs
        self._runs: OrderedDict[str, RunRecord] = OrderedDict()
        self._thread_locks: dict[str, asyncio.Lock] = {}

    def add(self, run: RunRecord) -> None:
        self._runs[run.run_id] = run
        while len(self._runs) > self.max_runs:
            oldest = next((r for r in self._runs.values() if r.done.is_set()), None)
            if oldest is None:
                break
            del self._runs[oldest.run_id]

    def get(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    def remove(self, run_id: str) -> None:
        self._runs.pop(run_id, None)

    def unfinished(self) -> list[RunRecord]:
        return [r for r in self._runs.values() if not r.done.is_set()]

    def for_thread(self, thread_id: str) -> list[RunRecord]:
        return [r for r in reversed(self._runs.values()) if r.thread_id == thread_id]

    def active(self, thread_id: str) -> bool:
        return any(not r.done.is_set() for r in self.for_thread(thread_id))

    def drop_thread(self, thread_id: str) -> None:
        for run in self.for_thread(thread_id):
            if run.task is not None and not run.done.is_set():
                run.task.cancel()
            self._runs.pop(run.run_id, None)
        self._thread_locks.pop(thread_id, None)

    def thread_lock(self, thread_id: str) -> asyncio.Lock:
        return self._thread_locks.setdefault(thread_id, asyncio.Lock())
