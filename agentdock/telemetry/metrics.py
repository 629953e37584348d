"""Prometheus metrics of one runtime app, in a registry of its own.

Each app owns a ``CollectorRegistry`` instead of using the process-global one: a test process
(or a bench) builds many apps, and the global registry refuses a second metric of the same
name. Label children are cached per (route, method, status) so the hot path does one dict
lookup and a lock-protected add, not a label resolution, per request.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from agentdock.spec.models import Metrics as MetricsSettings

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Agent latencies span milliseconds (cached/fake) to minutes (tool-heavy runs).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class RuntimeMetrics:
    """Requests by route/status, latency, errors by type, tokens, in-flight, tool decisions."""

    def __init__(self, agent: str, version: str, settings: MetricsSettings | None = None) -> None:
        settings = settings or MetricsSettings()
        self.registry = CollectorRegistry(auto_describe=False)
        self._latency_on = settings.latency
        self._tokens_on = settings.tokens
        info = Gauge(
            "agentdock_agent_info",
            "The agent this process serves.",
            ["agent", "version"],
            registry=self.registry,
        )
        info.labels(agent, version).set(1)
        self.requests = Counter(
            "agentdock_requests",
            "Requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "agentdock_request_duration_seconds",
            "Request latency (to the last byte for streams).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "agentdock_errors", "Errors by type (error envelope name).", ["type"], registry=self.registry
        )
        self.tokens = Counter(
            "agentdock_tokens",
            "Model tokens by direction (in = prompt, out = completion).",
            ["direction"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "agentdock_in_flight_requests", "Requests being served now.", registry=self.registry
        )
        self.tool_calls = Counter(
            "agentdock_tool_calls",
            "Tool calls the policy saw, by tool and decision.",
            ["tool", "decision"],
            registry=self.registry,
        )
        self.policy = Counter(
            "agentdock_policy_decisions",
            "Policy decisions by stage, policy and action.",
            ["stage", "policy", "action"],
            registry=self.registry,
        )
        self.telemetry = Counter(
            "agentdock_telemetry_spans",
            "Trace spans by sink (langfuse, otlp, worker) and outcome (sent, spooled, dropped, replayed).",
            ["sink", "outcome"],
            registry=self.registry,
        )
        self._cost_on = settings.cost
        self.cost = Counter(
            "agentdock_cost_usd",
            "Model cost in USD (token usage x the price table), when observability.metrics.cost is on.",
            registry=self.registry,
        )
        self._tokens_in = self.tokens.labels("in")
        self._tokens_out = self.tokens.labels("out")
        self._request_children: dict[tuple[str, str, int], Counter] = {}
        self._latency_children: dict[str, Histogram] = {}
        self._error_children: dict[str, Counter] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(route, method, str(status))
        child.inc()
        if self._latency_on:
            hist = self._latency_children.get(route)
            if hist is None:
                hist = self._latency_children[route] = self.latency.labels(route)
            hist.observe(seconds)

    def observe_error(self, error_type: str) -> None:
        child = self._error_children.get(error_type)
        if child is None:
            child = self._error_children[error_type] = self.errors.labels(error_type)
        child.inc()

    def observe_tokens(self, tokens_in: int, tokens_out: int) -> None:
        if not self._tokens_on:
            return
        if tokens_in:
            self._tokens_in.inc(tokens_in)
        if tokens_out:
            self._tokens_out.inc(tokens_out)

    def observe_cost(self, usd: float | None) -> None:
        if self._cost_on and usd:
            self.cost.inc(usd)

    def observe_telemetry(self, sink: str, outcome: str, spans: int) -> None:
        """Called from exporter threads (prometheus_client counters are thread-safe)."""
        self.telemetry.labels(sink, outcome).inc(spans)

    def observe_tool(self, tool: str, decision: str) -> None:
        self.tool_calls.labels(tool, decision).inc()

    def observe_policy(self, event: Any) -> None:
        """``agentdock.policy.PolicyEvent`` hook (duck-typed: stage, policy, action, detail)."""
        self.policy.labels(event.stage, event.policy, event.action).inc()
        if event.policy == "tools":
            self.observe_tool(event.detail, event.action)

    def render(self) -> bytes:
        """The Prometheus text exposition of this app's registry."""
        return generate_latest(self.registry)
