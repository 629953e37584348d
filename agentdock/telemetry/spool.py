"""Nothing lost when a telemetry backend is down: OTLP batches that cannot be delivered are kept
in a bounded local spool and delivered later (on the next successful export, with backoff, or
by ``agentdock telemetry replay``).

We own the export: ``SpoolingExporter`` takes a batch encoded once (the OTLP protobuf the
collector receives, ``telemetry.otlp``), POSTs it with a bounded timeout, and on failure writes
exactly those bytes to the spool, so a replay sends the very same request. The
spool holds no secret: credentials come from the environment when a batch is sent.

Layout: ``<root>/<agent>/<sink>/<time_ns>-<spans>-<rand>.pb`` plus ``endpoint`` (the URL).
``<root>`` is ``/tmp/agentdock-spool`` inside a function (Lambda, Cloud Run/Knative: the only
writable place), else ``$AGENTDOCK_HOME/spool`` (default ``~/.agentdock/spool``).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agentdock.settings import ENV_HOME

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
Record = Callable[[str, int], None]  # (outcome: sent|spooled|dropped|replayed, spans)


def in_function() -> bool:
    """Lambda or Cloud Run/Knative: only /tmp is writable there."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or os.environ.get("K_SERVICE"))


def spool_root() -> Path:
    if in_function():
        return Path("/tmp/agentdock-spool")
    home = os.environ.get(ENV_HOME)
    return (Path(home) if home else Path.home() / ".agentdock") / "spool"


@dataclass
class OTLPSink:
    """One OTLP/HTTP traces endpoint; ``headers`` carry auth and are never written to disk."""

    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 5.0

    def send(self, body: bytes, timeout_s: float | None = None) -> bool:
        """POST one protobuf batch; True on 2xx. Never raises: a failure is a False."""
        request = urllib.request.Request(
            self.endpoint,
            data=body,
            method="POST",
            headers={**self.headers, "Content-Type": "application/x-protobuf"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s or self.timeout_s) as response:
                response.read()
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False


class Spool:
    """A bounded folder of undelivered batches, oldest first. Safe across processes: a batch is
    claimed by an atomic rename before it is sent, so two drainers never send the same file."""

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def put(self, body: bytes, spans: int, endpoint: str) -> bool:
        """Keep one batch; False (dropped) when the spool is full or not writable."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.size() + len(body) > self.max_bytes:
                return False
            marker = self.folder / "endpoint"
            if not marker.exists():
                marker.write_text(endpoint, encoding="utf-8")
            name = f"{time.time_ns()}-{spans}-{os.urandom(4).hex()}.pb"
            tmp = self.folder / (name + ".tmp")
            tmp.write_bytes(body)
            tmp.rename(self.folder / name)  # atomic: a reader never sees half a batch
            return True
        except OSError:
            return False

    def batches(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.pb"))

    def size(self) -> int:
        return sum(path.stat().st_size for path in self.batches() if path.exists())

    def endpoint(self) -> str | None:
        marker = self.folder / "endpoint"
        return marker.read_text(encoding="utf-8").strip() if marker.exists() else None

    def drain(self, send: Callable[[bytes], bool], limit: int | None = None) -> tuple[int, int]:
        """Send spooled batches oldest first until one fails; returns (batches, spans) delivered."""
        batches = spans = 0
        for path in self.batches()[:limit]:
            claimed = path.with_name(f"{path.name}.claim-{os.getpid()}")
            try:
                path.rename(claimed)
            except OSError:
                continue  # another drainer took it
            if not send(claimed.read_bytes()):
                claimed.rename(path)
                break
            claimed.unlink()
            batches += 1
            spans += span_count(path)
        return batches, spans


def span_count(path: Path) -> int:
    try:
        return int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return 0


class Backoff:
    """When to try the spool again after a failure: 1 s doubling to 5 min."""

    def __init__(self, first_s: float = 1.0, cap_s: float = 300.0) -> None:
        self.first_s, self.cap_s = first_s, cap_s
        self.delay = 0.0
        self.next_at = 0.0

    def failed(self) -> None:
        self.delay = min(self.cap_s, self.delay * 2 or self.first_s)
        self.next_at = time.monotonic() + self.delay

    def succeeded(self) -> None:
        self.delay = 0.0
        self.next_at = 0.0

    def due(self) -> bool:
        return time.monotonic() >= self.next_at


class SpoolingExporter:
    """Sends encoded OTLP batches to ``sink`` and spools what it cannot deliver.

    While the backend keeps failing (``Backoff``), batches go straight to the spool; after a
    success, a few spooled batches are delivered too (``drain_per_export``). One exporter per
    sink, called from the telemetry worker only.
    """

    def __init__(self, sink: OTLPSink, spool: Spool, record: Record, drain_per_export: int = 8) -> None:
        self.sink, self.spool, self.record = sink, spool, record
        self.drain_per_export = drain_per_export
        self.backoff = Backoff()
        self.pending_spool = bool(spool.batches())
        self._lock = threading.Lock()

    def export(self, body: bytes, count: int) -> bool:
        """Deliver or spool one batch of ``count`` spans; False when it was dropped."""
        with self._lock:
            if self.backoff.due() and self.sink.send(body):
                self.record("sent", count)
                self.backoff.succeeded()
                self._drain()
                return True
            self.backoff.failed()
            if self.spool.put(body, count, self.sink.endpoint):
                self.pending_spool = True
                self.record("spooled", count)
                return True
            self.record("dropped", count)
            return False

    def _drain(self) -> None:
        """The backend answers again: deliver a few spooled batches (bounded per export)."""
        if not self.pending_spool:
            return
        _, spans_sent = self.spool.drain(self.sink.send, limit=self.drain_per_export)
        if spans_sent:
            self.record("replayed", spans_sent)
        self.pending_spool = bool(self.spool.batches())
