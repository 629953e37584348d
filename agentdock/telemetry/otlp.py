"""The OTLP/HTTP wire format of our traces, written directly: no OpenTelemetry SDK span objects.

A trace is built after the response (``telemetry.hub``'s worker) from what the run recorded, so
there is nothing an SDK span adds (no live context, no sampling decision, no processor chain);
building one per observation, cloning it in Langfuse's export stage and encoding it again cost
several times the CPU of writing the protobuf ``ExportTraceServiceRequest`` bytes here. The
request is the one the SDK's OTLP exporter would send: the same resource (``Resource.create``:
service, version, environment and the SDK's own attributes), instrumentation scope, span kind,
status, flags and attribute encoding (``tests/telemetry/test_telemetry_otlp.py`` parses it back
with ``opentelemetry-proto``). Imported only when a trace backend is on.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

# W3C/OTLP span flags: the parent's remoteness is known (bit 8) and the parent is remote (bit 9).
LOCAL_PARENT = 0x100
REMOTE_PARENT = 0x300
KV_CACHE_MAX = 4096  # encoded attributes kept (repeated values: environment, levels, names)
KV_CACHE_STR = 256  # longer strings (inputs, outputs) are not kept


class SpanData(NamedTuple):
    """One finished span: ids as ints (span ids 64 bits), times in ns since the epoch."""

    span_id: int
    parent_id: int
    name: str
    start_ns: int
    end_ns: int
    attributes: Mapping[str, Any]
    remote_parent: bool = False


def new_span_id() -> int:
    return random.getrandbits(64) or 1


# --- protobuf wire format (https://protobuf.dev/programming-guides/encoding/) ----------------


def _varint(n: int) -> bytes:
    if 0 <= n < 0x80:
        return _SMALL[n]
    n &= 0xFFFFFFFFFFFFFFFF  # negative int64: ten bytes, two's complement
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = [bytes([n]) for n in range(0x80)]


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: its tag, the payload's length, the payload."""
    return tag + _varint(len(payload)) + payload


def _any_value(value: Any) -> bytes:
    """An ``AnyValue``'s fields (bool before int: bool is an int in Python)."""
    if isinstance(value, str):
        return _field(b"\x0a", value.encode())  # 1: string_value
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"  # 2: bool_value
    if isinstance(value, int):
        return b"\x18" + _varint(value)  # 3: int_value
    if isinstance(value, float):
        return b"\x21" + _DOUBLE(value)  # 4: double_value (fixed64)
    if isinstance(value, bytes):
        return _field(b"\x3a", value)  # 7: bytes_value
    if isinstance(value, Sequence):  # 5: array_value, an ArrayValue of AnyValues (1: values)
        return _field(b"\x2a", b"".join(_field(b"\x0a", _any_value(item)) for item in value))
    return _field(b"\x0a", str(value).encode())


_DOUBLE = struct.Struct("<d").pack
_FIXED64 = struct.Struct("<Q").pack
_FIXED32 = struct.Struct("<I").pack


class Encoder:
    """Writes batches of traces for one resource and instrumentation scope, as protobuf bytes
    (``ExportTraceServiceRequest``). Attributes that repeat (same key and short value) are
    encoded once and kept."""

    def __init__(
        self,
        resource: Mapping[str, Any],
        scope_name: str,
        scope_version: str,
        scope_attributes: Mapping[str, Any] | None = None,
    ) -> None:
        from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
        from opentelemetry.proto.resource.v1.resource_pb2 import Resource

        self._kv: dict[tuple[bytes, str, type, Any], bytes] = {}
        resource_message = Resource()
        resource_message.ParseFromString(self._attributes(resource, b"\x0a"))  # 1: attributes
        scope = InstrumentationScope(name=scope_name, version=scope_version)
        scope.MergeFromString(self._attributes(scope_attributes or {}, b"\x1a"))  # 3: attributes
        # ResourceSpans 1: resource; ScopeSpans 1: scope (each written once).
        self._resource = _field(b"\x0a", resource_message.SerializeToString())
        self._scope = _field(b"\x0a", scope.SerializeToString())

    def _attributes(self, attributes: Mapping[str, Any], tag: bytes = b"\x4a") -> bytes:
        """Repeated ``KeyValue`` fields (Span 9: attributes); None values are left out."""
        cache = self._kv
        out = []
        for key, value in attributes.items():
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                cacheable = len(value) <= KV_CACHE_STR
            elif kind is list or kind is tuple:
                cacheable = all(type(item) is str for item in value)
                value = tuple(value) if cacheable else value
            else:
                cacheable = kind is bool or kind is int or kind is float
            if cacheable:
                ckey = (tag, key, kind, value)  # the type too: True == 1 == 1.0
                encoded = cache.get(ckey)
                if encoded is not None:
                    out.append(encoded)
                    continue
            encoded = _field(tag, _field(b"\x0a", key.encode()) + _field(b"\x12", _any_value(value)))
            if cacheable:
                if len(cache) >= KV_CACHE_MAX:
                    cache.clear()
                cache[ckey] = encoded
            out.append(encoded)
        return b"".join(out)

    def _span(self, trace: bytes, span: SpanData) -> bytes:
        return b"".join(
            (
                trace,  # 1: trace_id (tag and length included)
                b"\x12\x08" + span.span_id.to_bytes(8, "big"),  # 2: span_id
                b"\x22\x08" + span.parent_id.to_bytes(8, "big"),  # 4: parent_span_id
                _field(b"\x2a", span.name.encode()) if span.name else b"",  # 5: name
                b"\x30\x01",  # 6: kind INTERNAL
                b"\x39" + _FIXED64(span.start_ns),  # 7: start_time_unix_nano
                b"\x41" + _FIXED64(span.end_ns),  # 8: end_time_unix_nano
                self._attributes(span.attributes),  # 9: attributes
                b"\x7a\x00",  # 15: status, UNSET (present, as the SDK's encoder writes it)
                b"\x85\x01" + _FIXED32(REMOTE_PARENT if span.remote_parent else LOCAL_PARENT),  # 16: flags
            )
        )

    def encode(self, traces: Iterable[tuple[str, Sequence[SpanData]]]) -> tuple[bytes, int]:
        """One ``ExportTraceServiceRequest`` for ``(trace id hex, spans)`` pairs: (body, spans)."""
        spans: list[bytes] = []
        for trace_id, trace_spans in traces:
            trace = b"\x0a\x10" + bytes.fromhex(trace_id)
            spans.extend(_field(b"\x12", self._span(trace, span)) for span in trace_spans)  # ScopeSpans 2
        scope_spans = _field(b"\x12", self._scope + b"".join(spans))  # ResourceSpans 2: scope_spans
        return _field(b"\x0a", self._resource + scope_spans), len(spans)  # request 1: resource_spans
