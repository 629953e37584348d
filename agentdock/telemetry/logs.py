"""Structured logs: one JSON line per request (and per notable runtime event) on stdout.

Function platforms (Lambda, Knative, Cloud Run) collect stdout line by line, so a log line
is one ``write`` of one complete line: lines from concurrent requests never interleave.
Fields are fixed names (agent, version, trace_id, route, status, latency_ms, tokens) so log
queries work across agents. Exception messages are never logged, only their type: a model
provider's error text can carry prompts or keys.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from agentdock.telemetry.tracing import TRACE_ID

# The Lambda request id of the invocation being served (set by the middleware from Mangum's scope).
LAMBDA_REQUEST_ID: ContextVar[str | None] = ContextVar("agentdock_lambda_request", default=None)
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
        cost_usd: float | None = None,
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
        if cost_usd is not None:
            line += f',"cost_usd":{cost_usd:.8f}'
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


class JSONFormatter(logging.Formatter):
    """``agentdock.*`` log records as one JSON line with the agent, version and trace id."""

    def __init__(self, agent: str, version: str) -> None:
        super().__init__()
        self.agent, self.version = agent, version

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": _LEVEL_NAMES.get(record.levelno, record.levelname.lower()),
            "msg": record.getMessage(),
            "logger": record.name,
            "agent": self.agent,
            "version": self.version,
            "trace_id": TRACE_ID.get(),
        }
        request_id = LAMBDA_REQUEST_ID.get()
        if request_id:
            data["function_request_id"] = request_id
        if record.exc_info and record.exc_info[0] is not None:
            data["exception"] = record.exc_info[0].__name__  # the type only: messages can carry secrets
        return json.dumps(data, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current ``sys.stderr`` (looked up per record, so a redirect is followed)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        return None


_LEVEL_NAMES = {10: "debug", 20: "info", 30: "warn", 40: "error", 50: "error"}
_HANDLER_NAME = "agentdock-json"


def install_json_logging(agent: str, version: str, level: str = "info") -> logging.Handler:
    """Make every ``agentdock.*`` logger emit JSON lines on stderr (idempotent: one handler).

    When nothing configured the root logger (the case in an image: uvicorn configures only its
    own loggers), other libraries' warnings would reach stderr as plain text through Python's
    last-resort handler, so the root logger gets the same JSON handler too, minus ``agentdock.*``
    records (they have theirs). On Lambda the handler uses Powertools'
    ``LambdaPowertoolsFormatter`` when it is installed (the ``lambda`` extra), so lines carry the
    Lambda request id and X-Ray trace id the way CloudWatch Logs Insights expects, plus our
    trace id.
    """
    formatter = _lambda_formatter(agent, version) or JSONFormatter(agent, version)
    logger = logging.getLogger("agentdock")
    handler = _named_handler(logger, _HANDLER_NAME, formatter)
    logger.setLevel(LEVELS.get(level, 20))
    root = logging.getLogger()
    if not root.handlers or any(h.get_name() == _ROOT_HANDLER_NAME for h in root.handlers):
        _named_handler(root, _ROOT_HANDLER_NAME, formatter).addFilter(_not_ours)
    return handler


_ROOT_HANDLER_NAME = "agentdock-json-root"


def _not_ours(record: logging.LogRecord) -> bool:
    return not record.name.startswith("agentdock")


def _named_handler(logger: logging.Logger, name: str, formatter: logging.Formatter) -> logging.Handler:
    handler = next((h for h in logger.handlers if h.get_name() == name), None)
    if handler is None:
        handler = _StderrHandler()  # stdout stays for CLI output (serve --json)
        handler.set_name(name)
        logger.addHandler(handler)
    handler.setFormatter(formatter)
    return handler


def _lambda_formatter(agent: str, version: str) -> logging.Formatter | None:
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return None
    try:
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
    except ImportError:
        return None

    class _Formatter(LambdaPowertoolsFormatter):
        def format(self, record: logging.LogRecord) -> str:
            self.append_keys(trace_id=TRACE_ID.get(), function_request_id=LAMBDA_REQUEST_ID.get())
            if record.exc_info and record.exc_info[0] is not None:
                # The type only, as everywhere: exception text can carry prompts or keys.
                name = record.exc_info[0].__name__
                record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
                record.exception_type = name
            return super().format(record)

    formatter = _Formatter(service=agent)
    formatter.append_keys(agent=agent, version=version)
    return formatter
