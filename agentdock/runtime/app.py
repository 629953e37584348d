"""The one ASGI app every target runs: ``create_app(spec)`` and ``app_from_frozen(path)``.

``create_app`` computes everything once (I/O models, OpenAPI document, metrics registry,
the pipeline with its bound stages) and builds the agent eagerly in the lifespan (see
``host.py`` for why). Middleware order, outermost first: the runtime middleware (trace id,
metrics, log line, last-resort envelope), then ``install_hardening``'s security middleware,
then FastAPI's exception middleware, then the routes.

Import discipline: this module is the runtime's import path inside a function image, so it
imports no deploy-side package (boto3, typer, jinja2, kubernetes); a test enforces it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.routing import Route

from agentdock import __version__ as agentdock_version
from agentdock.adapters.base import Adapter
from agentdock.errors import AgentDockError
from agentdock.runtime.arguments import RunSettings
from agentdock.runtime.components import Components
from agentdock.runtime.contract import build_contract
from agentdock.runtime.envelope import install_exception_handlers
from agentdock.runtime.host import AgentHost, freeze_startup_heap
from agentdock.runtime.middleware import RuntimeMiddleware
from agentdock.runtime.openapi import build_openapi
from agentdock.runtime.pipeline import Pipeline
from agentdock.runtime.routes import Runtime, build_routes
from agentdock.settings import ENV_AGENT_VERSION, ENV_SPEC_PATH
from agentdock.spec.models import DockSpec
from agentdock.telemetry.cost import PriceTable
from agentdock.telemetry.hub import Telemetry
from agentdock.telemetry.ledger import ENV_LEDGER, Ledger
from agentdock.telemetry.logs import RequestLog, Sink, install_json_logging
from agentdock.telemetry.metrics import RuntimeMetrics


def agent_version(spec: DockSpec) -> str:
    """What /health reports: the deployed version (env), else metadata.version, else 'dev'."""
    return os.environ.get(ENV_AGENT_VERSION) or spec.metadata.version or "dev"


def _fastapi_telemetry(spec: DockSpec) -> TelemetryConfig:
    """FastAPI's native OpenTelemetry only when an OTel setup is present (env) and tracing is on.

    Otherwise it stays off: its per-request "is a provider configured?" probe costs more than
    the rest of our telemetry, and the runtime's own trace ids, metrics and logs cover it.
    """
    configured = any(name.startswith("OTEL_") for name in os.environ) or bool(
        os.environ.get("FASTAPI_OTEL_AUTO_CONFIGURE")
    )
    on = configured and spec.observability.tracing
    return TelemetryConfig(tracing=on, metrics=on, logs=on, operation_spans=on)


def create_app(
    spec: DockSpec,
    *,
    base_dir: str | Path = ".",
    components: Components | None = None,
    agent: Any = None,
    adapter: Adapter | None = None,
    log_sink: Sink | None = None,
    freeze_heap: bool = False,
) -> FastAPI:
    """The runtime app for ``spec``.

    ``components`` defaults to ``Components.from_spec(spec)``; ``agent`` skips loading the
    entrypoint (a graph built by the caller); ``adapter`` overrides
    ``get_adapter(spec.agent.framework)``; ``log_sink`` receives the JSON log lines
    (default stdout); ``freeze_heap`` takes what startup built out of the garbage collector's
    full passes once the graph is built (``host.freeze_startup_heap``: a process that serves this
    one app for its lifetime, like an image's).
    """
    base = Path(base_dir).resolve()
    version = agent_version(spec)
    log = RequestLog(spec.agent.name, version, spec.observability.log_level, log_sink)
    metrics = RuntimeMetrics(spec.agent.name, version, spec.observability.metrics)
    install_json_logging(spec.agent.name, version, spec.observability.log_level)
    prices = PriceTable(spec.observability.metrics.prices)
    telemetry = Telemetry.for_spec(spec, version, prices, metrics.observe_telemetry)
    components = components or Components.from_spec(spec)
    contract = build_contract(spec, base)
    host = AgentHost(spec, base, log, adapter=adapter, agent=agent)
    pipeline = Pipeline(
        components,
        contract,
        host,
        RunSettings.from_arguments(spec.arguments),
        metrics,
        traced=telemetry is not None,
        record_steps=telemetry is not None and telemetry.tracing,
    )
    if telemetry is not None:
        telemetry.set_redactor(pipeline.redact)
        pipeline.on_ws_run = telemetry.finish_ws_run
    default_model = spec.model.name if spec.model else None
    ledger = Ledger(spec.agent.name) if os.environ.get(ENV_LEDGER) == "1" else None
    runtime = Runtime(
        spec=spec,
        version=version,
        contract=contract,
        pipeline=pipeline,
        host=host,
        metrics=metrics,
        openapi=build_openapi(spec, contract, version=version),
        started=time.monotonic(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Eager build: see host.py. A failure aborts startup, so the platform reports a
        # failed init (Lambda) or a crashing revision (Knative) instead of serving 503s.
        host.load()
        if telemetry is not None:
            telemetry.start()
        if ledger is not None:
            ledger.start()
        if freeze_heap:
            freeze_startup_heap()
        yield
        if telemetry is not None:
            telemetry.shutdown()
        if ledger is not None:
            ledger.stop()

    app = FastAPI(
        telemetry=_fastapi_telemetry(spec),
        title=spec.agent.name,
        version=version,
        description=spec.agent.description or "",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.router.routes.extend(build_routes(runtime))
    if spec.agent.framework == "langgraph":  # the LangGraph Server API (docs/langgraph-api.md)
        from agentdock.runtime.langgraph_api import mount_langgraph_api

        mount_langgraph_api(app, spec, pipeline, version)
    app.openapi = lambda: runtime.openapi  # type: ignore[method-assign]
    app.state.runtime = runtime
    app.state.telemetry = telemetry  # telemetry.hub.Telemetry or None (tests and benches flush it)
    install_exception_handlers(app)
    # Our own /docs and /redoc routes; named here so install_hardening gives them the docs CSP.
    app.docs_url, app.redoc_url = "/docs", "/redoc"

    from agentdock.security.middleware import install_hardening

    install_hardening(app, spec)
    # Added last, so it wraps everything install_hardening added.
    paths = frozenset(route.path for route in app.router.routes if hasattr(route, "path"))
    # Routes with parameters (/stream/{run_id}, /threads/{thread_id}/...) are labelled by their
    # template: one metric series per route, not one per id.
    templates = tuple(
        {r.path: r.path_regex for r in app.router.routes if isinstance(r, Route) and "{" in r.path}.items()
    )
    app.add_middleware(
        RuntimeMiddleware,
        metrics=metrics,
        log=log,
        routes=paths,
        templates=templates,
        telemetry=telemetry,
        ledger=ledger,
        cost_of=telemetry.cost
        if telemetry is not None
        else lambda _record, usage: prices.cost(
            default_model, usage.get("input_tokens", 0), usage.get("output_tokens", 0)
        ),
    )
    log.event("info", "app created", agentdock=agentdock_version, framework=spec.agent.framework)
    return app


def app_from_frozen(path: str | Path | None = None) -> FastAPI:
    """The entry point inside an image: frozen spec JSON -> ``${VAR}`` resolved -> app.

    ``path`` defaults to env ``AGENTDOCK_SPEC``; the agent's files live beside the spec
    (base_dir = its folder). References resolve through ``deploy.secrets`` (secrets.py).
    """
    from agentdock.runtime.secrets import resolve_frozen
    from agentdock.spec import spec_from_frozen

    location = path if path is not None else os.environ.get(ENV_SPEC_PATH)
    if not location:
        from agentdock.errors import RuntimeStartupError

        raise RuntimeStartupError(ENV_SPEC_PATH, "no frozen spec: pass a path or set AGENTDOCK_SPEC")
    spec_path = Path(location)
    try:
        raw = json.loads(spec_path.read_text(encoding="utf-8"))
        spec = spec_from_frozen(resolve_frozen(raw))
        return create_app(spec, base_dir=spec_path.parent, freeze_heap=True)
    except AgentDockError as exc:
        # One clear JSON line in the function's log before the platform reports a failed init.
        name = (
            str(raw.get("agent", {}).get("name", "?")) if "raw" in locals() and isinstance(raw, dict) else "?"
        )
        RequestLog(name, os.environ.get(ENV_AGENT_VERSION, "dev")).event(
            "error", "startup failed", error=exc.name, code=exc.code, path=exc.path, detail=exc.cause
        )
        raise
