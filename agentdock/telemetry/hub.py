"""The runtime's telemetry backend: one per app, None when no trace backend is configured.

``Telemetry.for_spec`` decides (Langfuse keys, ``OTEL_EXPORTER_OTLP_*``, ``observability.tracing``,
``AGENTDOCK_TELEMETRY=off``) without importing any SDK; ``start`` (in the app's lifespan) builds
the worker thread, which imports the SDK and builds the exporters. Per request the middleware
opens a ``RunRecord`` and hands it to ``finish``, which only appends it to a deque (no lock, no
wake-up: the request path pays a few hundred nanoseconds). The worker wakes every
``EXPORT_INTERVAL_S`` (or on ``flush``), turns what accumulated into spans and sends them as one
OTLP request per sink (``EXPORT_MAX_SPANS`` at most), yielding the GIL between runs so the event
loop is never kept waiting by a long batch. On serverless flavours ``end_of_request`` flushes
with a hard time cap (Lambda freezes the sandbox after the response; Cloud Run may throttle its
CPU), in a thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from agentdock.telemetry.cost import PriceTable
from agentdock.telemetry.langfuse import EmitContext, LangfuseSettings, langfuse_settings, step_cost
from agentdock.telemetry.otel_env import otlp_configured, otlp_env_endpoint
from agentdock.telemetry.run import RunRecord
from agentdock.telemetry.spool import in_function

log = logging.getLogger("agentdock.telemetry")
TRACED_ROUTES = frozenset({"/invoke", "/stream", "/ws/stream"})
ENV_SWITCH = "AGENTDOCK_TELEMETRY"  # "off" disables every trace backend
ENV_FLUSH_CAP = "AGENTDOCK_TELEMETRY_FLUSH_S"  # serverless flush cap, seconds (default 1.0)
ENV_TIMEOUT = "AGENTDOCK_TELEMETRY_TIMEOUT_S"  # per export request, seconds (default 3.0)
ENV_SAMPLE = "AGENTDOCK_TRACE_SAMPLE_RATE"  # share of runs traced, 0..1 (else LANGFUSE_SAMPLE_RATE, else 1)
EXPORT_INTERVAL_S = 1.0  # the worker exports what accumulated this often (and on flush)
EXPORT_MAX_SPANS = 512  # spans per OTLP request at most (the SDK's default batch size)
MAX_PENDING = 10_000  # runs waiting for the worker; beyond, runs are counted as dropped


def sample_rate() -> float:
    raw = os.environ.get(ENV_SAMPLE) or os.environ.get("LANGFUSE_SAMPLE_RATE") or "1"
    try:
        return min(1.0, max(0.0, float(raw)))
    except ValueError:
        return 1.0


def environment_name() -> str:
    """The Langfuse/OTel environment: LANGFUSE_TRACING_ENVIRONMENT, AGENTDOCK_ENVIRONMENT, else
    production inside a function and local elsewhere (lowercase, as Langfuse requires)."""
    name = os.environ.get("LANGFUSE_TRACING_ENVIRONMENT") or os.environ.get("AGENTDOCK_ENVIRONMENT")
    return (name or ("production" if in_function() else "local")).lower()


class Telemetry:
    def __init__(
        self,
        *,
        agent: str,
        version: str,
        langfuse: LangfuseSettings | None,
        otlp: bool,
        emf: bool,
        prices: PriceTable,
        default_model: str | None,
        count: Callable[[str, str, int], None],
    ) -> None:
        self.agent, self.version = agent, version
        self.langfuse, self.otlp = langfuse, otlp
        self.tracing = langfuse is not None or otlp
        self.emf: Any = None
        if emf:
            from agentdock.telemetry.emf import EMFPublisher

            self.emf = EMFPublisher(agent, version)
        self.count = count
        self.routes = TRACED_ROUTES
        self.serverless = in_function()
        self.flush_cap_s = float(os.environ.get(ENV_FLUSH_CAP, "1.0"))
        self.timeout_s = float(os.environ.get(ENV_TIMEOUT, "3.0"))
        # Decided from the trace id, so every service that samples this way keeps the same traces.
        self.sample_bound = int(sample_rate() * 0xFFFFFFFF)
        self.emit_ctx = EmitContext(agent, version, environment_name(), prices, default_model, lambda v: v)
        # Appended on the request path, popped by the worker (deque operations are atomic).
        self.pending: deque[RunRecord] = deque()
        self._tickets = itertools.count(1)
        self.enqueued = 0  # ticket of the last run handed to the worker
        self.handled = 0  # runs the worker has exported, spooled or dropped
        self._handled_cond = threading.Condition()
        self._wake = threading.Event()
        self._stopping = False
        self.encoder: Any = None  # telemetry.otlp.Encoder, built in the worker
        self.exporters: list[Any] = []  # spool.SpoolingExporter per sink
        self.worker: threading.Thread | None = None

    @classmethod
    def for_spec(
        cls, spec: Any, version: str, prices: PriceTable, count: Callable[[str, str, int], None]
    ) -> Telemetry | None:
        from agentdock.telemetry.emf import emf_available

        if os.environ.get(ENV_SWITCH, "").lower() in ("off", "0", "false"):
            return None
        tracing = spec.observability.tracing
        settings = langfuse_settings(spec.observability.langfuse) if tracing else None
        otlp = tracing and otlp_configured()
        if tracing and otlp_env_endpoint() is not None and not otlp:
            log.warning("OTLP export is off: only OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf is supported")
        emf = emf_available()
        if settings is None and not otlp and not emf:
            return None
        return cls(
            agent=spec.agent.name,
            version=version,
            langfuse=settings,
            otlp=otlp,
            emf=emf,
            prices=prices,
            default_model=spec.model.name if spec.model else None,
            count=count,
        )

    def set_redactor(self, redact: Callable[[Any], Any]) -> None:
        """How tool args and outputs are redacted before they leave (the output policy)."""
        self.emit_ctx.redact = redact

    # --- lifecycle (lifespan) ----------------------------------------------------------

    def start(self) -> None:
        """Start the worker; it imports the SDK and builds the exporters first, so the SDK's
        import time (most of a second on a small function) is not added to the cold start: runs
        served meanwhile wait in ``pending``."""
        if not self.tracing:
            return
        self.worker = threading.Thread(target=self._run, name="agentdock-telemetry", daemon=True)
        self.worker.start()

    def _boot(self) -> None:
        from agentdock.telemetry import otel
        from agentdock.telemetry.langfuse import scope
        from agentdock.telemetry.otlp import Encoder
        from agentdock.telemetry.spool import OTLPSink, Spool, SpoolingExporter, spool_root

        scope_name, scope_version = scope()  # the SDK's: without it there are no traces
        exporters = []
        if self.langfuse is not None:
            sink = OTLPSink(self.langfuse.endpoint, self.langfuse.headers(), self.timeout_s)
            spool = Spool(spool_root() / self.agent / "langfuse")
            exporters.append(SpoolingExporter(sink, spool, self._counter("langfuse")))
            public_key = self.langfuse.public_key
        else:
            public_key = "agentdock-otlp-only"
        otlp = (
            otel.otlp_env_exporter(self.agent, self._counter("otlp"), self.timeout_s) if self.otlp else None
        )
        if otlp is not None:
            exporters.append(otlp)
        if not exporters:  # never a default endpoint (Langfuse Cloud)
            raise RuntimeError("no trace exporter could be configured")
        resource = otel.resource_attributes(self.agent, self.version, self.emit_ctx.environment)
        self.encoder = Encoder(resource, scope_name, scope_version, {"public_key": public_key})
        self.exporters = exporters

    def shutdown(self) -> None:
        if self.worker is None:
            return
        self.flush(self.flush_cap_s * 5)
        self._stopping = True
        self._wake.set()
        self.worker.join(timeout=2.0)
        self.worker = None

    def _counter(self, sink: str) -> Callable[[str, int], None]:
        return lambda outcome, spans: self.count(sink, outcome, spans)

    # --- per request -------------------------------------------------------------------

    def open(self, trace_id: str, route: str, method: str) -> RunRecord:
        sampled = self.tracing and int(trace_id[-8:], 16) <= self.sample_bound
        return RunRecord(trace_id, route, method, sampled)

    def cost(self, record: RunRecord | None, usage: dict[str, int] | None) -> float | None:
        """The run's cost: per generation when recorded, else its total usage at the Dockfile's model."""
        ctx = self.emit_ctx
        if record is not None and any(step.kind == "generation" for step in record.steps):
            costs = [step_cost(step, ctx)[1] for step in record.steps if step.kind == "generation"]
            known = [cost for cost in costs if cost is not None]
            return sum(known) if known else None
        if not usage:
            return None
        return ctx.prices.cost(ctx.default_model, usage.get("input_tokens", 0), usage.get("output_tokens", 0))

    def finish_ws_run(self, record: RunRecord) -> None:
        """A WebSocket run ended: its cost, then the same path as a request."""
        record.status = record.status or 200
        record.cost_usd = self.cost(record, record.usage)
        self.finish(record)

    def finish(self, record: RunRecord) -> None:
        """After the response: EMF lines (Lambda), then the run to the worker (no wake-up)."""
        record.end_ns = time.time_ns()
        if self.emf is not None:
            try:
                self.emf.publish(record, record.cost_usd)
            except Exception:  # metrics must never fail a request
                log.warning("could not write EMF metrics", exc_info=True)
        if not record.sampled:
            return
        if len(self.pending) >= MAX_PENDING:
            self.count("worker", "dropped", 1)
            return
        self.pending.append(record)
        self.enqueued = next(self._tickets)

    async def end_of_request(self, record: RunRecord) -> None:
        if self.serverless and record.sampled:
            await asyncio.to_thread(self.flush, self.flush_cap_s)

    def flush(self, cap_s: float) -> bool:
        """Export every run handed over so far, within ``cap_s`` seconds (True if all done).

        The worker does the export; past the cap we stop waiting and it carries on (what it
        cannot deliver in its own time-out goes to the spool)."""
        target = self.enqueued
        if self.worker is None:
            return self.handled >= target
        self._wake.set()
        with self._handled_cond:
            return self._handled_cond.wait_for(lambda: self.handled >= target, timeout=cap_s)

    def _run(self) -> None:
        try:
            self._boot()
        except Exception:  # e.g. the langfuse extra is not installed: serve on, without traces
            log.warning("tracing is off: the trace exporter could not start", exc_info=True)
            self.encoder = None
        self._work()

    def _work(self) -> None:
        while not self._stopping:
            self._wake.wait(EXPORT_INTERVAL_S)
            self._wake.clear()
            while self.pending:
                try:
                    self._export_batch()
                except Exception:  # the worker must outlive any one batch
                    log.warning("the trace worker failed on a batch", exc_info=True)

    def _export_batch(self) -> None:
        """Build the spans of pending runs (up to ``EXPORT_MAX_SPANS``) and send them to each sink."""
        from agentdock.telemetry.langfuse import trace_spans

        traces: list[tuple[str, Any]] = []
        taken = spans = 0
        while spans < EXPORT_MAX_SPANS and self.pending:
            record = self.pending.popleft()
            taken += 1
            if self.encoder is None:
                self.count("worker", "dropped", 1)
                continue
            try:
                built = trace_spans(record, self.emit_ctx, record.cost_usd)
            except Exception:  # a bad record must not stop the worker
                log.warning("could not build the trace of a run", exc_info=True)
                self.count("worker", "dropped", 1)
                continue
            traces.append((record.trace_id, built))
            spans += len(built)
            time.sleep(0)  # let the event loop take the GIL between runs
        try:
            if traces:
                body, count = self.encoder.encode(traces)
                for exporter in self.exporters:
                    exporter.export(body, count)
        except Exception:
            log.warning("could not export a batch of traces", exc_info=True)
            self.count("worker", "dropped", len(traces))
        finally:
            with self._handled_cond:
                self.handled += taken
                self._handled_cond.notify_all()
