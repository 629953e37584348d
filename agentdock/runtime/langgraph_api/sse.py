"""The SSE response of the LangGraph routes: follow one run's event log, from ``Last-Event-ID``.

Each event is ``event:``/``data:``/``id:`` (the id is its position in the run's log), written
the moment the run appends it; ``: heartbeat`` comments keep an idle connection and its
proxies open. A client that goes away does not stop the run unless it asked for that
(``on_disconnect: cancel``): it reconnects (``Location`` header) with ``Last-Event-ID`` and
gets the rest. ``Location``/``Content-Location`` name the run as the reference server does, so
``langgraph_sdk``'s automatic reconnect and ``on_run_created`` work.
"""

from __future__ import annotations

from agentdock.runtime.langgraph_api.registry import RunRecord
from agentdock.runtime.runlog import LogStream

HEARTBEAT = b": heartbeat\n\n"


def last_event_id(value: str | None) -> int:
    """``Last-Event-ID`` as a log position; anything unparsable replays from the start."""
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def run_paths(run: RunRecord) -> tuple[str, str]:
    base = f"/threads/{run.thread_id}/runs/{run.run_id}" if run.thread_id else f"/runs/{run.run_id}"
    return base, f"{base}/stream"


def run_event_stream(run: RunRecord, after: int, heartbeat_s: float, cancel_on_disconnect: bool) -> LogStream:
    """An ASGI response streaming ``run``'s events after ``after``."""
    content, location = run_paths(run)
    headers = [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
        (b"location", location.encode()),
        (b"content-location", content.encode()),
    ]

    def cancel() -> None:
        if run.task is not None:
            run.task.cancel()

    return LogStream(
        run.log,
        after,
        heartbeat_s,
        HEARTBEAT,
        headers,
        on_disconnect=cancel if cancel_on_disconnect else None,
    )
