"""Agent metrics for the console, computed from the runtime's own JSON request log lines.

The dashboard reads the same log a target serves to ``agentdock logs`` and aggregates the
``"msg":"request"`` lines: no second metrics pipeline, and no API key is needed to read them
(the operator who may read logs may see their aggregates). Pure functions over lines.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

WINDOWS_S = {"5m": 300, "15m": 900, "1h": 3600, "24h": 86400}
_LEVELS = ("debug", "info", "warn", "error")
# Probes from platforms, the local target and this console: not traffic.
PROBE_ROUTES = frozenset({"/health", "/ready", "/metrics"})


def parse_line(line: str) -> dict[str, Any] | None:
    """The JSON object of a log line, or None for a non-JSON line (uvicorn, tracebacks)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def level_of(line: str) -> str:
    record = parse_line(line)
    level = str(record.get("level", "info")) if record else "info"
    return level if level in _LEVELS else "info"


def filter_lines(lines: Iterable[str], *, level: str | None = None, query: str | None = None) -> list[str]:
    """Lines at ``level`` or above whose text contains ``query`` (a trace id, a route, ...)."""
    floor = _LEVELS.index(level) if level in _LEVELS else 0
    out = []
    for line in lines:
        if _LEVELS.index(level_of(line)) < floor:
            continue
        if query and query not in line:
            continue
        out.append(line)
    return out


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Summary:
    """What the agents table and the metrics tab show for one window."""

    window_s: int
    requests: int = 0
    errors: int = 0
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    errors_by_type: dict[str, int] = field(default_factory=dict)
    policy_events: int = 0
    series: list[dict[str, Any]] = field(default_factory=list)

    @property
    def requests_per_min(self) -> float:
        return round(self.requests / (self.window_s / 60), 2)

    @property
    def error_rate(self) -> float:
        return round(self.errors / self.requests, 4) if self.requests else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "requests": self.requests,
            "requests_per_min": self.requests_per_min,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "latency_ms": self.latency_ms,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": round(self.cost_usd, 6),
            "errors_by_type": self.errors_by_type,
            "policy_events": self.policy_events,
            "series": self.series,
        }


def summarize(lines: Iterable[str], *, window_s: int, now: float | None = None, buckets: int = 30) -> Summary:
    """Aggregate the request lines of the last ``window_s`` seconds; ``series`` has ``buckets``
    equal slices (requests, errors, p95 latency, tokens) for the charts."""
    now = time.time() if now is None else now
    start = now - window_s
    width = window_s / buckets
    out = Summary(window_s)
    latencies: list[float] = []
    slices: list[dict[str, Any]] = [
        {
            "t": round(start + i * width, 3),
            "requests": 0,
            "errors": 0,
            "tokens": 0,
            "cost_usd": 0.0,
            "lat": [],
        }
        for i in range(buckets)
    ]
    kinds: Counter[str] = Counter()
    for line in lines:
        record = parse_line(line)
        if not record:
            continue
        ts = record.get("ts")
        if not isinstance(ts, int | float) or not start <= ts <= now:
            continue
        if record.get("msg") != "request":
            if str(record.get("msg", "")).startswith("policy"):
                out.policy_events += 1
            continue
        if record.get("route") in PROBE_ROUTES:
            continue
        status = int(record.get("status") or 0)
        latency = float(record.get("latency_ms") or 0.0)
        tokens = record.get("tokens") or {}
        tin, tout = int(tokens.get("input_tokens") or 0), int(tokens.get("output_tokens") or 0)
        cost = float(record.get("cost_usd") or 0.0)
        bucket = slices[min(buckets - 1, int((ts - start) / width))]
        out.requests += 1
        bucket["requests"] += 1
        latencies.append(latency)
        bucket["lat"].append(latency)
        out.tokens_in += tin
        out.tokens_out += tout
        bucket["tokens"] += tin + tout
        out.cost_usd += cost
        bucket["cost_usd"] += cost
        if status >= 400:
            kinds[str(record.get("error") or status)] += 1
            if status in (403,) and "policy" in str(record.get("error", "")).lower():
                out.policy_events += 1
        if status >= 500:
            out.errors += 1
            bucket["errors"] += 1
    out.latency_ms = {f"p{q}": percentile(latencies, q) for q in (50, 90, 95, 99)}
    out.errors_by_type = dict(kinds.most_common())
    for bucket in slices:
        lat = bucket.pop("lat")
        bucket["p95_ms"] = percentile(lat, 95)
        bucket["cost_usd"] = round(bucket["cost_usd"], 6)
    out.series = slices
    return out
