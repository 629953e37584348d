"""Runtime arguments from the Dockfile's free ``arguments`` map, checked once at startup.

Known keys: ``timeout_sec`` (whole run, default 60; 0 or null = no limit), ``max_retries``
(re-runs after a transient provider error, default 0 because a re-run repeats tool side
effects), ``enable_streaming`` (default true; false = /stream sends start and end only),
``retry_backoff_sec`` (first back-off, doubled per attempt, default 0.25) and
``heartbeat_sec`` (SSE comment while idle, default 15), ``send_timeout_sec`` (how long one SSE or
WebSocket write may wait for a client that stopped reading before the stream is dropped,
default 30), ``resume_window_sec`` (how long a /stream run goes on after its client went away,
for the client to rejoin with ``Last-Event-ID``; default 10, 0 = cancel on disconnect, the
default on Lambda) and ``max_body_bytes`` (request body and WebSocket message limit, default 1 MiB,
read by ``body_limit``). Other keys belong to the adapter.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentdock.errors import AgentDockError, InvalidSchemaError

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_SEND_TIMEOUT_S = 30.0
DEFAULT_RESUME_WINDOW_S = 10.0
DEFAULT_MAX_BODY_BYTES = 1 << 20
MAX_BACKOFF_S = 5.0

# Exception class names (anywhere in the MRO) that mean "try again": connection trouble,
# provider-side timeouts, throttling and overload, without importing httpx/openai/anthropic.
_TRANSIENT_NAMES = frozenset(
    {
        "APIConnectionError",
        "APITimeoutError",
        "RateLimitError",
        "InternalServerError",
        "ServiceUnavailableError",
        "OverloadedError",
        "ConnectError",
        "ConnectTimeout",
        "ReadTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "ReadError",
        "RemoteProtocolError",
        "TimeoutException",
        "ThrottlingException",
    }
)
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True)
class RunSettings:
    timeout_s: float | None = DEFAULT_TIMEOUT_S
    max_retries: int = 0
    enable_streaming: bool = True
    retry_backoff_s: float = 0.25
    heartbeat_s: float = 15.0
    send_timeout_s: float = DEFAULT_SEND_TIMEOUT_S
    resume_window_s: float = DEFAULT_RESUME_WINDOW_S

    @classmethod
    def from_arguments(cls, arguments: dict[str, Any]) -> RunSettings:
        timeout = arguments.get("timeout_sec", DEFAULT_TIMEOUT_S)
        return cls(
            timeout_s=None if timeout in (None, 0) else _number(timeout, "timeout_sec"),
            max_retries=int(_number(arguments.get("max_retries", 0), "max_retries", integer=True)),
            enable_streaming=_flag(arguments.get("enable_streaming", True), "enable_streaming"),
            retry_backoff_s=_number(
                arguments.get("retry_backoff_sec", 0.25), "retry_backoff_sec", allow_zero=True
            ),
            heartbeat_s=_number(arguments.get("heartbeat_sec", 15.0), "heartbeat_sec"),
            send_timeout_s=_number(
                arguments.get("send_timeout_sec", DEFAULT_SEND_TIMEOUT_S), "send_timeout_sec"
            ),
            resume_window_s=_number(
                arguments.get("resume_window_sec", default_resume_window()),
                "resume_window_sec",
                allow_zero=True,
            ),
        )

    def backoff(self, attempt: int) -> float:
        """Exponential back-off with full jitter for retry ``attempt`` (1-based)."""
        ceiling = min(MAX_BACKOFF_S, self.retry_backoff_s * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def default_resume_window(env: Mapping[str, str] = os.environ) -> float:
    """0 on Lambda: each execution environment serves one request at a time, so a reconnect
    never reaches the one still streaming, and keeping the run going would only spend tokens.
    ``env`` is the function's environment (the preflight passes the target's)."""
    return 0.0 if env.get("AWS_LAMBDA_FUNCTION_NAME") else DEFAULT_RESUME_WINDOW_S


def body_limit(arguments: dict[str, Any]) -> int:
    """``arguments.max_body_bytes``, or the 1 MiB default (install_hardening refuses bad values)."""
    value = arguments.get("max_body_bytes")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return DEFAULT_MAX_BODY_BYTES


def is_transient(exc: BaseException) -> bool:
    """True for errors worth a retry; never for AgentDock errors (policy, tool denial, ...)."""
    if isinstance(exc, AgentDockError):
        return False
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__):
        return True
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return isinstance(status, int) and status in _TRANSIENT_STATUS


def _number(value: Any, key: str, *, integer: bool = False, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and not float(value).is_integer():
        ok = False
    if not ok or value < 0 or (value == 0 and not allow_zero and not integer):
        kind = "a non-negative integer" if integer else "a positive number"
        raise InvalidSchemaError(f"arguments.{key}", f"must be {kind}, got {value!r}")
    return float(value)


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidSchemaError(f"arguments.{key}", f"must be true or false, got {value!r}")
    return value
