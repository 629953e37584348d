"""CloudWatch metrics on Lambda, in the embedded metric format (EMF), through Powertools.

A function's ``/metrics`` shows one sandbox's counters and nobody scrapes it, so on the Lambda
flavours each run also writes EMF lines to stdout, which CloudWatch Logs turns into metrics
with no agent or API call: requests, latency, tokens and cost per (agent, route); errors by
type; policy events by policy and action. Lines are built with Powertools'
``AmazonCloudWatchEMFProvider`` (the ``lambda`` extra) and written after the response, each in
one ``write`` (so lines never interleave). Namespace: ``POWERTOOLS_METRICS_NAMESPACE``, default
``AgentDock``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from agentdock.telemetry.logs import Sink, stdout_sink
from agentdock.telemetry.run import RunRecord

DEFAULT_NAMESPACE = "AgentDock"


def emf_available() -> bool:
    """On Lambda with Powertools installed (checked without importing it)."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return False
    import importlib.util

    return importlib.util.find_spec("aws_lambda_powertools") is not None


class EMFPublisher:
    def __init__(self, agent: str, version: str, sink: Sink | None = None) -> None:
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
            AmazonCloudWatchEMFProvider,
        )

        self._provider_cls = AmazonCloudWatchEMFProvider
        self.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        self.agent, self.version = agent, version
        self.sink = sink or stdout_sink

    def _blob(self, dimensions: dict[str, str], metrics: list[tuple[str, str, float]]) -> str:
        provider = self._provider_cls(namespace=self.namespace, service=self.agent)
        for dimension, label in dimensions.items():
            provider.add_dimension(dimension, label)
        for name, unit, value in metrics:
            provider.add_metric(name=name, unit=unit, value=value)
        return json.dumps(provider.serialize_metric_set(), separators=(",", ":"))

    def publish(self, record: RunRecord, cost_usd: float | None) -> None:
        """One run's EMF lines (main set, then errors and policy events with their own dimension)."""
        base = {"agent": self.agent, "route": record.route}
        usage = record.usage or {}
        metrics: list[tuple[str, str, float]] = [
            ("Requests", "Count", 1),
            ("Latency", "Milliseconds", (record.end_ns - record.start_ns) / 1e6),
            ("InputTokens", "Count", usage.get("input_tokens", 0)),
            ("OutputTokens", "Count", usage.get("output_tokens", 0)),
        ]
        if cost_usd is not None:
            metrics.append(("CostUSD", "None", cost_usd))
        lines = [self._blob(base, metrics)]
        if record.error:
            lines.append(self._blob({**base, "error_type": record.error}, [("Errors", "Count", 1)]))
        events: Counter[str] = Counter(name for _, name, _ in record.events)
        for name, count in sorted(events.items()):
            lines.append(self._blob({**base, "policy_event": name}, [("PolicyEvents", "Count", count)]))
        for line in lines:
            self.sink(line + "\n")


def publisher_for(agent: str, version: str, sink: Any = None) -> EMFPublisher | None:
    return EMFPublisher(agent, version, sink) if emf_available() else None
