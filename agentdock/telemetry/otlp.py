"""The OTLP/HTTP wire format of our traces, written directly: no OpenTelemetry SDK span objects.

A trace is built after the response (``telemetry.hub``'s worker) from what the run recorded, so
there is nothing an SDK span adds (no live context, no sampling decision, no processor chain);
building one per observation, cloning it in Langfuse's export stage and encoding it again cost
about five times the CPU of writing the protobuf ``ExportTraceServiceRequest`` here, with
``opentelemetry-proto``'s messages (C-accelerated with protobuf's upb backend). The request is
the one the SDK's OTLP exporter would send: the same resource (``Resource.create``: service,
version, environment and the SDK's own attributes), instrumentation scope, span kind, flags and
attribute encoding. Imported only when a trace backend is on.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

INTERNAL = Span.SPAN_KIND_INTERNAL
# W3C/OTLP span flags: the parent's remoteness is known (bit 8) and the parent is remote (bit 9).
LOCAL_PARENT = 0x100
REMOTE_PARENT = 0x300


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


def any_value(value: Any) -> AnyValue:
    """An attribute value as OTLP encodes it (bool before int: bool is an int in Python)."""
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Sequence):
        out = AnyValue()
        out.array_value.values.extend(any_value(item) for item in value)
        return out
    return AnyValue(string_value=str(value))


def key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [
        KeyValue(key=key, value=any_value(value)) for key, value in attributes.items() if value is not None
    ]


class Encoder:
    """Writes batches of traces for one resource and instrumentation scope."""

    def __init__(
        self,
        resource: Mapping[str, Any],
        scope_name: str,
        scope_version: str,
        scope_attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self.resource = Resource(attributes=key_values(resource))
        self.scope = InstrumentationScope(
            name=scope_name, version=scope_version, attributes=key_values(scope_attributes or {})
        )

    def encode(self, traces: Iterable[tuple[str, Sequence[SpanData]]]) -> tuple[bytes, int]:
        """One ``ExportTraceServiceRequest`` for ``(trace id hex, spans)`` pairs: (body, spans)."""
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        resource_spans.resource.CopyFrom(self.resource)
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.CopyFrom(self.scope)
        add = scope_spans.spans.add
        count = 0
        for trace_id, spans in traces:
            trace = bytes.fromhex(trace_id)
            for span in spans:
                message = add(
                    trace_id=trace,
                    span_id=span.span_id.to_bytes(8, "big"),
                    parent_span_id=span.parent_id.to_bytes(8, "big"),
                    name=span.name,
                    kind=INTERNAL,
                    start_time_unix_nano=span.start_ns,
                    end_time_unix_nano=span.end_ns,
                    attributes=key_values(span.attributes),
                    flags=REMOTE_PARENT if span.remote_parent else LOCAL_PARENT,
                )
                message.status.SetInParent()  # UNSET, present: as the SDK's encoder writes it
                count += 1
        return request.SerializeToString(), count
