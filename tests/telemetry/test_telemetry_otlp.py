"""Our OTLP encoder writes what opentelemetry-proto's messages (the SDK exporter's encoding) would."""

from __future__ import annotations

from typing import Any

import pytest

from agentdock.telemetry.otlp import Encoder, SpanData

# opentelemetry-proto comes with the langfuse extra; the floor tier (no such extra) collects this
# module for its unit selection, so the messages are imported where they are used.
pytestmark = pytest.mark.functional

ATTRIBUTES: dict[str, Any] = {
    "langfuse.observation.type": "agent",
    "langfuse.internal.as_root": True,
    "flag.off": False,
    "count": 200,
    "negative": -3,
    "big": 2**62,
    "zero": 0,
    "ratio": 0.125,
    "text": "prix: 12 € — ok",
    "empty": "",
    "tags": ["agent", "version:1", "env:local"],
    "mixed": [1, "a", True, 2.5],
    "raw": b"\x00\x01",
    "long": "x" * 1000,
    "dropped": None,
}


def oracle_value(value: Any) -> Any:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

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
    out = AnyValue()
    out.array_value.values.extend(oracle_value(item) for item in value)
    return out


def oracle_attributes(attributes: dict[str, Any]) -> list[Any]:
    from opentelemetry.proto.common.v1.common_pb2 import KeyValue

    return [KeyValue(key=k, value=oracle_value(v)) for k, v in attributes.items() if v is not None]


def test_the_request_parses_to_the_messages_the_sdk_encoder_builds() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

    resource = {"service.name": "a1", "service.version": "1.0", "telemetry.sdk.language": "python"}
    encoder = Encoder(resource, "langfuse-sdk", "5.0.0", {"public_key": "pk-1"})
    trace_id = "0123456789abcdef0123456789abcdef"
    spans = [
        SpanData(11, 2**64 - 1, "agent /invoke", 1_000, 9_000, ATTRIBUTES, remote_parent=True),
        SpanData(12, 11, "tool", 2_000, 3_000, {"count": 200, "tags": ("a", "b")}),
        SpanData(13, 11, "", 4_000, 4_000, {}),
    ]
    body, count = encoder.encode([(trace_id, spans), ("f" * 32, spans[1:2])])
    body_again, _ = encoder.encode([(trace_id, spans), ("f" * 32, spans[1:2])])  # from the cache

    expected = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=oracle_attributes(resource)),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(
                            name="langfuse-sdk",
                            version="5.0.0",
                            attributes=oracle_attributes({"public_key": "pk-1"}),
                        ),
                        spans=[
                            Span(
                                trace_id=bytes.fromhex(tid),
                                span_id=span.span_id.to_bytes(8, "big"),
                                parent_span_id=span.parent_id.to_bytes(8, "big"),
                                name=span.name,
                                kind=Span.SPAN_KIND_INTERNAL,
                                start_time_unix_nano=span.start_ns,
                                end_time_unix_nano=span.end_ns,
                                attributes=oracle_attributes(dict(span.attributes)),
                                status=Status(),
                                flags=0x300 if span.remote_parent else 0x100,
                            )
                            for tid, group in ((trace_id, spans), ("f" * 32, spans[1:2]))
                            for span in group
                        ],
                    )
                ],
            )
        ]
    )
    parsed = ExportTraceServiceRequest()
    parsed.ParseFromString(body)
    assert count == 4
    assert parsed == expected
    assert body_again == body
    assert parsed.resource_spans[0].scope_spans[0].spans[0].HasField("status")
