"""The runtime's telemetry backend: one per app, None when no trace backend is configured.

``Telemetry.for_spec`` decides (Langfuse keys, ``OTEL_EXPORTER_OTLP_*``, ``observability.tracing``,
``AGENTDOCK_TELEMETRY=off``) without importing any SDK; ``start`` (in the app's lifespan) builds
the tracer provider, the Langfuse client and the exporters. Per request the middleware opens a
``RunRecord`` and hands it to ``finish``, which only enqueues it: a worker thread builds the
spans, and the SDK's batch processor exports them. On serverless flavours ``end_of_request``
flushes with a hard time cap (Lambda freezes the sandbox after the response; Cloud Run may
throttle its CPU), in a thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from agentdock.telemetry.cost import PriceTable
from agentdock.telemetry.langfuse import EmitContext, LangfuseSettings, emit, langfuse_settings, step_cost
from agentdock.telemetry.otel_env import otlp_configured, otlp_env_endpoint
from agentdock.telemetry.run import RunRecord
from agentdock.telemetry.spool import in_function

log = logging.getLogger("agentdock.telemetry")
TRACED_ROUTES = frozenset({"/invoke", "/stream", "/ws/stream"})
ENV_SWITCH = "AGENTDOCK_TELEMETRY"  # "off" disables every trace backend
ENV_FLUSH_CAP = "AGENTDOCK_TELEMETRY_FLUSH_S"  # serverless flush cap, seconds (default 1.0)
ENV_TIMEOUT = "AGENTDOCK_TELEMETRY_TIMEOUT_S"  # per export request, seconds (default 3.0)
ENV_SAMPLE = "AGENTDOCK_TRACE_SAMPLE_RATE"  # share of runs traced, 0..1 (else LANGFUSE_SAMPLE_RATE, else 1)


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
        self.queue: queue.Queue[RunRecord | None] = queue.Queue(maxsize=10_000)
        self.provider: Any = None
        self.client: Any = None
        self.tracer: Any = None
        self.worker: threading.Thread | None = None
        self._flusher: threading.Thread | None = None
        self._flush_lock = threading.Lock()

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
        """Start the worker; it imports and builds the SDK client first, so the SDK's import
        time (most of a second on a small function) is not added to the cold start: runs
        served meanwhile wait in the queue."""
        if not self.tracing:
            return
        self.worker = threading.Thread(target=self._run, name="agentdock-telemetry", daemon=True)
        self.worker.start()

    def _boot(self) -> None:
        from agentdock.telemetry import otel
        from agentdock.telemetry.langfuse import build_client, tracer_for
        from agentdock.telemetry.spool import OTLPSink, Spool, make_exporter, spool_root

        env = self.emit_ctx.environment
        self.provider = otel.build_provider(self.agent, self.version, env)
        if self.langfuse is not None:
            sink = OTLPSink(self.langfuse.endpoint, self.langfuse.headers(), self.timeout_s)
            exporter = make_exporter(
                sink, Spool(spool_root() / self.agent / "langfuse"), self._counter("langfuse")
            )
            public_key = self.langfuse.public_key
        else:
            exporter, public_key = None, "agentdock-otlp-only"
        otlp = (
            otel.otlp_env_processor(self.agent, self._counter("otlp"), self.timeout_s) if self.otlp else None
        )
        if exporter is None and otlp is not None:
            # OTLP only: the SDK still builds the spans (same attributes); its processor exports them.
            exporter, otlp = otlp.span_exporter, None
        if exporter is None:  # never the SDK's default exporter (Langfuse Cloud)
            raise RuntimeError("no trace exporter could be configured")
        if otlp is not None:
            self.provider.add_span_processor(otlp)
        self.client = build_client(public_key, self.provider, exporter, env, self.version)
        self.tracer = tracer_for(public_key, self.provider)

    def shutdown(self) -> None:
        if self.worker is None:
            return
        self.flush(self.flush_cap_s * 5)
        self.queue.put(None)
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
        """After the response: EMF lines (Lambda), then the trace to the worker's queue."""
        record.end_ns = time.time_ns()
        if self.emf is not None:
            try:
                self.emf.publish(record, record.cost_usd)
            except Exception:  # metrics must never fail a request
                log.warning("could not write EMF metrics", exc_info=True)
        if not record.sampled:
            return
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.count("worker", "dropped", 1)

    async def end_of_request(self, record: RunRecord) -> None:
        if self.serverless and record.sampled:
            await asyncio.to_thread(self.flush, self.flush_cap_s)

    def flush(self, cap_s: float) -> bool:
        """Build queued traces and export them, within ``cap_s`` seconds (True if all done)."""
        deadline = time.monotonic() + cap_s
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.002)
        if self.provider is None:
            return not self.queue.unfinished_tasks
        # The SDK's batch processor exports synchronously in force_flush and ignores its
        # timeout, so the cap is enforced here: the export runs in a helper thread (one at a
        # time) and we stop waiting at the deadline; what is left is exported (or spooled) later.
        with self._flush_lock:
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(
                    target=self.provider.force_flush, name="agentdock-flush", daemon=True
                )
                self._flusher.start()
            flusher = self._flusher
        flusher.join(max(0.0, deadline - time.monotonic()))
        return not flusher.is_alive() and not self.queue.unfinished_tasks

    def _run(self) -> None:
        try:
            self._boot()
        except Exception:  # e.g. the langfuse extra is not installed: serve on, without traces
            log.warning("tracing is off: the trace exporter could not start", exc_info=True)
            self.client = None
        self._work()

    def _work(self) -> None:
        while True:
            record = self.queue.get()
            try:
                if record is None:
                    return
                if self.client is None:
                    self.count("worker", "dropped", 1)
                    continue
                emit(self.tracer, record, self.emit_ctx, record.cost_usd)
            except Exception:  # a bad record must not stop the worker
                log.warning("could not build the trace of a run", exc_info=True)
                self.count("worker", "dropped", 1)
            finally:
                self.queue.task_done()
