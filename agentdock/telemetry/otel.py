"""OpenTelemetry plumbing: our own TracerProvider (never the global one) and the standard
``OTEL_EXPORTER_OTLP_*`` export.

Spans are built after the response (``telemetry.hub``), from times recorded during the run,
so the tracer must accept a start time the SDK's callers do not pass: ``TimedTracerProvider``
hands out tracers that take it from ``START_NS`` when the caller gives none. Imported only when
a trace backend is on (the OTel SDK costs cold-start time).
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from agentdock.telemetry.otel_env import otlp_configured, otlp_env_endpoint, otlp_env_headers
from agentdock.telemetry.spool import OTLPSink, Record, Spool, make_exporter, spool_root

START_NS: ContextVar[int | None] = ContextVar("agentdock_span_start", default=None)


class _TimedTracer(trace_api.Tracer):
    """Delegates to an SDK tracer; a span without an explicit start time gets ``START_NS``."""

    def __init__(self, inner: trace_api.Tracer) -> None:
        self._inner = inner

    def start_span(  # type: ignore[override]
        self,
        name: str,
        context: Any = None,
        kind: trace_api.SpanKind = trace_api.SpanKind.INTERNAL,
        attributes: Any = None,
        links: Any = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Any:
        return self._inner.start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time or START_NS.get(),
            record_exception,
            set_status_on_exception,
        )

    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: Any = None,
        kind: trace_api.SpanKind = trace_api.SpanKind.INTERNAL,
        attributes: Any = None,
        links: Any = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Any:
        return self._inner.start_as_current_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time or START_NS.get(),
            record_exception,
            set_status_on_exception,
            end_on_exit,
        )


class TimedTracerProvider(TracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> trace_api.Tracer:  # type: ignore[override]
        return _TimedTracer(super().get_tracer(*args, **kwargs))


def build_provider(agent: str, version: str, environment: str) -> TimedTracerProvider:
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME") or agent,
            "service.version": version,
            "deployment.environment.name": environment,
        }
    )
    return TimedTracerProvider(resource=resource)


def otlp_env_processor(agent: str, record: Record, timeout_s: float) -> BatchSpanProcessor | None:
    """A batch processor exporting to the OTLP/HTTP endpoint of the ``OTEL_*`` variables (with the
    spool behind it), or None when none is set or the protocol is not http/protobuf."""
    endpoint = otlp_env_endpoint()
    if endpoint is None or not otlp_configured():
        return None
    sink = OTLPSink(endpoint, otlp_env_headers(), timeout_s)
    exporter = make_exporter(sink, Spool(spool_root() / agent / "otlp"), record)
    return BatchSpanProcessor(exporter, export_timeout_millis=int(timeout_s * 1000))  # type: ignore[arg-type]
