"""Local aggregates for ``agentdock metrics export``: requests, errors, latency, tokens and cost
per day, route and status, kept in memory and written to ``$AGENTDOCK_HOME/metrics/<agent>/``.

Prometheus counters reset with the process and a function's ``/metrics`` shows one sandbox,
so a local run also keeps its totals on disk. ``observe`` is a few dict operations on the
request path; a daemon thread writes the file every few seconds when something changed (and
the lifespan writes it once more at shutdown). One file per process; the export sums them.
Not used inside functions (their disk is per-sandbox scratch space).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from agentdock.settings import ENV_HOME

ENV_LEDGER = "AGENTDOCK_METRICS_LEDGER"  # "1": keep local aggregates (set by `agentdock serve`)
FIELDS = (
    "requests",
    "errors",
    "latency_ms_sum",
    "latency_ms_max",
    "input_tokens",
    "output_tokens",
    "cost_usd",
)


def metrics_root() -> Path:
    home = os.environ.get(ENV_HOME)
    return (Path(home) if home else Path.home() / ".agentdock") / "metrics"


class Ledger:
    def __init__(self, agent: str, folder: Path | None = None, interval_s: float = 5.0) -> None:
        self.folder = (folder or metrics_root()) / agent
        self.path = self.folder / f"{os.getpid()}-{time.time_ns()}.json"
        self.rows: dict[tuple[str, str, str], list[float]] = {}
        self.dirty = False
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def observe(
        self, route: str, status: int, latency_ms: float, usage: dict[str, int] | None, cost: float | None
    ) -> None:
        key = (time.strftime("%Y-%m-%d", time.gmtime()), route, str(status))
        with self._lock:
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = [0.0] * len(FIELDS)
            row[0] += 1
            row[1] += status >= 400
            row[2] += latency_ms
            row[3] = max(row[3], latency_ms)
            if usage:
                row[4] += usage.get("input_tokens", 0)
                row[5] += usage.get("output_tokens", 0)
            row[6] += cost or 0.0
            self.dirty = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="agentdock-ledger", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.write()

    def stop(self) -> None:
        self._stop.set()
        self.write()

    def write(self) -> None:
        with self._lock:
            if not self.dirty:
                return
            rows = [
                {"date": d, "route": r, "status": int(s), **dict(zip(FIELDS, values, strict=True))}
                for (d, r, s), values in sorted(self.rows.items())
            ]
            self.dirty = False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            self.dirty = True  # try again next time


def aggregate(agent: str, folder: Path | None = None) -> list[dict[str, Any]]:
    """Rows summed over every process file of ``agent``, with the average latency."""
    totals: dict[tuple[str, str, int], dict[str, Any]] = {}
    for path in sorted(((folder or metrics_root()) / agent).glob("*.json")):
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for row in rows:
            key = (row["date"], row["route"], int(row["status"]))
            total = totals.setdefault(
                key, {"date": key[0], "route": key[1], "status": key[2], **dict.fromkeys(FIELDS, 0.0)}
            )
            for name in FIELDS:
                total[name] = (
                    max(total[name], row[name]) if name == "latency_ms_max" else total[name] + row[name]
                )
    out = []
    for row in totals.values():
        requests = int(row["requests"])
        out.append(
            {
                "date": row["date"],
                "route": row["route"],
                "status": row["status"],
                "requests": requests,
                "errors": int(row["errors"]),
                "latency_ms_avg": round(row["latency_ms_sum"] / requests, 3) if requests else 0.0,
                "latency_ms_max": round(row["latency_ms_max"], 3),
                "input_tokens": int(row["input_tokens"]),
                "output_tokens": int(row["output_tokens"]),
                "cost_usd": round(row["cost_usd"], 8),
            }
        )
    return out
