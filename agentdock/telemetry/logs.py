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
        self._ident = f',"agent":{self._dumps(agent)},"version":{self._dumps(version)}'
        self._strings: dict[str, str] = {}

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
        # Built by hand: this runs once per request and a generic encoder costs several times
        # more. Interpolated values are JSON-safe by construction (numbers; the trace id is hex,
        # minted or checked by telemetry.tracing); strings go through a cached encoder.
        tin, tout = (tokens.get("input_tokens", 0), tokens.get("output_tokens", 0)) if tokens else (0, 0)
        line = (
            f'{{"ts":{time.time():.3f},"level":"{level}","msg":"request"{self._ident},'
            f'"trace_id":"{trace_id}","route":{self._str(route)},"method":{self._str(method)},'
            f'"status":{int(status)},"latency_ms":{latency_ms:.2f},'
            f'"tokens":{{"input_tokens":{int(tin)},"output_tokens":{int(tout)}}}'
        )
        if error:
            line += ',"error":' + self._dumps(error)
        if cause:
            line += ',"cause":' + self._dumps(cause)
        self.sink(line + "}\n")

    def _str(self, value: str) -> str:
        """JSON string of a value that is almost always plain ASCII (cached per distinct value)."""
        cached = self._strings.get(value)
        if cached is None:
            cached = self._dumps(value)
            if len(self._strings) < 1024 and len(value) < 64:
                self._strings[value] = cached
        return cached

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
