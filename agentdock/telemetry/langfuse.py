"""Langfuse traces in the official SDK's (v5, OpenTelemetry-based) attribute schema.

``langfuse_settings`` decides whether Langfuse is on (keys from the Dockfile or the standard
``LANGFUSE_*`` variables); ``trace_spans`` turns one ``RunRecord`` into the spans of a trace,
with the SDK's attribute builders: the run as an ``agent`` observation tagged with agent,
version, environment and caller, a span per graph node, a ``tool`` observation per tool (denied
ones at WARNING level), a ``generation`` per model call with usage and cost, and policy
decisions as events. ``telemetry.otlp`` writes them as the OTLP request the SDK's exporter would
send, under the SDK's instrumentation scope (``scope``). The SDK is imported only when this
module's functions run, never when Langfuse is off.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentdock.telemetry.cost import PriceTable
from agentdock.telemetry.run import RunRecord, Step

if TYPE_CHECKING:
    from agentdock.telemetry.otlp import SpanData

DEFAULT_BASE_URL = "https://cloud.langfuse.com"
OTLP_PATH = "/api/public/otel/v1/traces"


@dataclass(frozen=True)
class LangfuseSettings:
    public_key: str
    secret_key: str
    base_url: str

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + OTLP_PATH

    def headers(self) -> dict[str, str]:
        """What the SDK's own exporter sends, plus the v4 ingestion header (real-time processing)."""
        try:
            from langfuse._version import __version__ as sdk_version
        except ImportError:  # replaying from a CLI install without the SDK
            sdk_version = "unknown"
        auth = base64.b64encode(f"{self.public_key}:{self.secret_key}".encode()).decode()
        return {
            "Authorization": f"Basic {auth}",
            "x-langfuse-sdk-name": "python",
            "x-langfuse-sdk-version": sdk_version,
            "x-langfuse-public-key": self.public_key,
            "x-langfuse-ingestion-version": "4",
        }


def langfuse_settings(block: Any) -> LangfuseSettings | None:
    """Keys from the Dockfile's ``observability.langfuse`` else the environment; the base URL from
    ``LANGFUSE_BASE_URL`` / ``LANGFUSE_HOST`` first (so one image can point anywhere), then the
    Dockfile's ``host``. None (off) without both keys."""
    public = (block.public_key if block else None) or os.environ.get("LANGFUSE_PUBLIC_KEY")
    secret = (block.secret_key if block else None) or os.environ.get("LANGFUSE_SECRET_KEY")
    if not public or not secret:
        return None
    base = (
        os.environ.get("LANGFUSE_BASE_URL")
        or os.environ.get("LANGFUSE_HOST")
        or (block.host if block else None)
        or DEFAULT_BASE_URL
    )
    return LangfuseSettings(public, secret, base)


@dataclass
class EmitContext:
    agent: str
    version: str
    environment: str
    prices: PriceTable
    default_model: str | None
    redact: Callable[[Any], Any]


def step_cost(step: Step, ctx: EmitContext) -> tuple[str | None, float | None]:
    """(model priced, cost) of a generation: its reported model, else the Dockfile's model."""
    for model in (step.model, ctx.default_model):
        cost = ctx.prices.cost(model, step.input_tokens, step.output_tokens)
        if cost is not None:
            return model, cost
    return step.model, None


def scope() -> tuple[str, str]:
    """The SDK's instrumentation scope (name, version): Langfuse keeps the spans of this scope
    whose ``public_key`` scope attribute is the project's."""
    from langfuse._client.constants import LANGFUSE_TRACER_NAME
    from langfuse._version import __version__ as sdk_version

    return LANGFUSE_TRACER_NAME, sdk_version


def trace_spans(record: RunRecord, ctx: EmitContext, cost_usd: float | None) -> list[SpanData]:
    """The spans of one run (called in the telemetry worker, never on a request).

    Attributes come from the SDK's own builders (``langfuse._client.attributes``), so their
    schema and serialisation are the SDK's. The root also gets what the SDK's span processor
    adds to a trace's first exported span (``is_app_root``); it hangs under a remote parent
    carrying our trace id and is marked as the trace root, as the SDK does for
    ``trace_context``. Tools and model calls hang under the node whose time span holds them.
    """
    from langfuse._client.attributes import LangfuseOtelSpanAttributes as A
    from langfuse._client.attributes import create_span_attributes

    from agentdock.telemetry.otlp import SpanData, new_span_id

    name = f"{ctx.agent} {record.route}"
    tags = [ctx.agent, f"version:{ctx.version}", f"env:{ctx.environment}"]
    if record.role:
        tags.append(f"role:{record.role}")
    level: Any = "ERROR" if record.status >= 500 else "WARNING" if record.status >= 400 else "DEFAULT"
    common = {A.ENVIRONMENT: ctx.environment, A.RELEASE: ctx.version}
    attributes = {
        **create_span_attributes(
            observation_type="agent",
            input=record.input,
            output=record.output,
            level=level,
            status_message=record.error,
        ),
        **_metadata(
            {
                "route": record.route,
                "method": record.method,
                "status": record.status,
                "caller": record.subject,
                "role": record.role,
                "usage": record.usage,
                "cost_usd": cost_usd,
            }
        ),
        **common,
        A.AS_ROOT: True,
        A.TRACE_NAME: name,
        A.TRACE_TAGS: tags,
        A.VERSION: ctx.version,
    }
    if record.subject:
        attributes[A.TRACE_USER_ID] = record.subject
    attributes[A.IS_APP_ROOT] = True
    root = new_span_id()
    end_ns = max(record.end_ns, record.start_ns)
    spans = [SpanData(root, new_span_id(), name, record.start_ns, end_ns, attributes, remote_parent=True)]
    nodes = [step for step in record.steps if step.kind == "node"]
    node_ids: dict[int, int] = {}
    for step in sorted(record.steps, key=lambda s: s.start_ns):
        container = _container(step, nodes) if nodes else None
        span_id = new_span_id()
        if step.kind == "node":
            node_ids[id(step)] = span_id
        parent = node_ids.get(id(container), root) if container is not None else root
        end = max(step.end_ns or step.start_ns, step.start_ns)
        spans.append(
            SpanData(span_id, parent, step.name, step.start_ns, end, {**_attributes(step, ctx), **common})
        )
    for ts, event, detail in record.events:
        attrs = _event_attributes(detail)
        spans.append(SpanData(new_span_id(), root, event, ts, ts, {**attrs, **common}))
    return spans


def _container(step: Step, nodes: list[Step]) -> Step | None:
    """The innermost node whose time span holds ``step`` (tools and models run inside nodes)."""
    best: Step | None = None
    for node in nodes:
        if node is step or not node.end_ns:
            continue
        inside = node.start_ns <= step.start_ns and (step.end_ns or step.start_ns) <= node.end_ns
        if inside and (best is None or node.start_ns >= best.start_ns):
            best = node
    return best


def _attributes(step: Step, ctx: EmitContext) -> dict[str, Any]:
    from langfuse._client.attributes import create_generation_attributes, create_span_attributes

    if step.kind == "generation":
        model, cost = step_cost(step, ctx)
        costs = None
        if cost is not None:
            price = ctx.prices.price(model) or (0.0, 0.0)
            costs = {
                "input": step.input_tokens * price[0] / 1e6,
                "output": step.output_tokens * price[1] / 1e6,
                "total": cost,
            }
        return create_generation_attributes(
            model=step.model or model,
            usage_details={
                "input": step.input_tokens,
                "output": step.output_tokens,
                "total": step.input_tokens + step.output_tokens,
            },
            cost_details=costs,
            level="ERROR" if step.error else "DEFAULT",
            status_message=step.error,
            metadata={"priced_as": model, "cost_usd": cost},
        )
    if step.kind == "tool":
        return create_span_attributes(
            observation_type="tool",
            input=ctx.redact(step.input),
            output=None if step.denied else ctx.redact(step.output),
            level="WARNING" if step.denied else "ERROR" if step.error else "DEFAULT",
            status_message="denied by policy" if step.denied else step.error,
            metadata={"denied": step.denied},
        )
    key = (step.name, step.error)
    cached = _NODES.get(key)
    if cached is None:
        cached = create_span_attributes(
            observation_type="span",
            level="ERROR" if step.error else "DEFAULT",
            status_message=step.error,
            metadata={"langgraph_node": step.name},
        )
        _remember(_NODES, key, cached)
    return cached


# What repeats from run to run is serialised once: node spans (name, error), policy events
# (name, detail) and the root's scalar metadata (route, method, status, caller, role).
_NODES: dict[Any, dict[str, Any]] = {}
_EVENTS: dict[Any, dict[str, Any]] = {}
_METADATA: dict[tuple[type, Any], str] = {}
CACHE_MAX = 2048


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= CACHE_MAX:
        cache.clear()
    cache[key] = value


def _event_attributes(detail: dict[str, Any]) -> dict[str, Any]:
    from langfuse._client.attributes import create_span_attributes

    try:
        key: Any = tuple((name, type(value), value) for name, value in detail.items())
        cached = _EVENTS.get(key)
    except TypeError:  # an unhashable detail
        return create_span_attributes(observation_type="event", metadata=detail)
    if cached is None:
        cached = create_span_attributes(observation_type="event", metadata=detail)
        _remember(_EVENTS, key, cached)
    return cached


def _metadata(metadata: dict[str, Any]) -> dict[str, str]:
    """The SDK's flattened observation metadata (``langfuse.observation.metadata.<key>``, each
    value JSON-encoded, None left out), with scalar values' encodings kept."""
    from langfuse._client.attributes import LangfuseOtelSpanAttributes as A
    from langfuse._client.attributes import _serialize_metadata_value

    out = {}
    for name, value in metadata.items():
        if value is None:
            continue
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool:
            encoded = _METADATA.get((kind, value))
            if encoded is None:
                encoded = _serialize_metadata_value(value)
                _remember(_METADATA, (kind, value), encoded)
        else:
            encoded = _serialize_metadata_value(value)
        out[f"{A.OBSERVATION_METADATA}.{name}"] = encoded
    return out
