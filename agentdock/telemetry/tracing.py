"""Trace ids: honour an incoming W3C ``traceparent``, else mint one.

A trace id is 32 lowercase hex characters (W3C Trace Context). It ties together the
response (``x-trace-id`` header), the error envelope, the structured log line and any
downstream span, so a client can quote it and an operator can grep for it.
"""

from __future__ import annotations

import random
from contextvars import ContextVar

_HEX = frozenset("0123456789abcdef")
_ZERO_TRACE = "0" * 32
# The trace id of the request being served (set by the runtime middleware), for log records.
TRACE_ID: ContextVar[str | None] = ContextVar("agentdock_trace_id", default=None)


def new_trace_id() -> str:
    """A fresh random trace id (128 bits, the W3C size).

    A trace id correlates, it does not protect anything, so the fast PRNG is enough (an
    ``os.urandom`` syscall per request costs more than the rest of this module).
    """
    return f"{random.getrandbits(128):032x}"


def parse_traceparent(value: str) -> str | None:
    """The trace id of a valid ``traceparent`` (``00-<32 hex>-<16 hex>-<2 hex>``), else None.

    Invalid headers are ignored rather than rejected: the spec says a receiver must then
    start a new trace, never fail the request.
    """
    parts = value.strip().split("-")
    if len(parts) < 4:
        return None
    version, trace_id, span_id, flags = parts[0], parts[1], parts[2], parts[3]
    if len(version) != 2 or version == "ff" or not _HEX.issuperset(version):
        return None
    if version == "00" and len(parts) != 4:
        return None
    if len(trace_id) != 32 or trace_id == _ZERO_TRACE or not _HEX.issuperset(trace_id):
        return None
    if len(span_id) != 16 or span_id == "0" * 16 or not _HEX.issuperset(span_id):
        return None
    if len(flags) != 2 or not _HEX.issuperset(flags):
        return None
    return trace_id


def trace_id_from_scope_headers(headers: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]) -> str:
    """Read ``traceparent`` from raw ASGI headers (names are lowercase per ASGI); mint if absent."""
    for name, value in headers:
        if name == b"traceparent":
            trace_id = parse_traceparent(value.decode("latin-1"))
            if trace_id is not None:
                return trace_id
            break
    return new_trace_id()
