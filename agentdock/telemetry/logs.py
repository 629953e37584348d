"""Structured logs: one JSON line per request (and per notable runtime event) on stdout.

Function platforms (Lambda, Knative, Cloud Run) collect stdout line by line, so a log line
is one ``write`` of one complete line: lines from concurrent requests never interleave.
Fields are fixed names (agent, version, trace_id, route, status, latency_ms, tokens) so log
queries work across agents. Exception messages are never logged, only their type: a model
provider's error text can carry prompts or keys.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}
Sink = Callable[[str], None]


def stdout_sink(line: str) -> None:
    """Write one line to stdout and flush, so a frozen Lambda sandbox loses nothing."""
    stream = sys.stdout
    stream.write(line)
    stream.flush()


class RequestLog:
    """Writes request lines and runtime events for one agent at the Dockfile's log level."""

    def __init__(self, agent: str, version: str, level: str = "info", sink: Sink | None = None) -> None:
        self.agent = agent
        self.version = version
        self.threshold = LEVELS.get(level, 20)
        self.sink = sink or stdout_sink
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode

    def request(
        self,
        *,
        trace_id: str,
        route: str,
        method: str,
        status: int,
        latency_ms: float,
        tokens: dict[str, int] | None = None,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        level = "error" if status >= 500 else "warn" if status >= 400 else "info"
        if LEVELS[level] < self.threshold:
            return
        record: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "level": level,
            "msg": "request",
            "agent": self.agent,
            "version": self.version,
            "trace_id": trace_id,
            "route": route,
            "method": method,
            "status": status,
            "latency_ms": round(latency_ms, 2),
            "tokens": tokens or {"input_tokens": 0, "output_tokens": 0},
        }
        if error:
            record["error"] = error
        if cause:
            record["cause"] = cause
        self.sink(self._dumps(record) + "\n")

    def event(self, level: str, msg: str, **fields: Any) -> None:
        """A runtime event (startup, agent loaded, load failure) as one JSON line."""
        if LEVELS.get(level, 20) < self.threshold:
            return
        record = {
            "ts": round(time.time(), 3),
            "level": level,
            "msg": msg,
            "agent": self.agent,
            "version": self.version,
        }
        record.update(fields)
        self.sink(self._dumps(record) + "\n")
