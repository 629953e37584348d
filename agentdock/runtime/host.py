"""Holds the one agent (graph) this process serves: built once, shared by every request.

Eager by default: the lifespan builds the graph at startup. On Lambda the init phase runs
with a CPU boost and is not billed like an invoke, and the Lambda Web Adapter only forwards
the first request once its readiness probe (``/health``) answers, which uvicorn does only
after lifespan startup: so the graph is built in the cheapest place and no user request
pays for it. ``/health`` itself never touches the graph (it must answer even while a slow
graph builds on Knative, where readiness and liveness are separate probes); ``/ready`` says
whether the graph is loaded. When no lifespan runs (an ASGI host with lifespan off), the
first request builds it instead, once, under a lock.

Compiled LangGraph graphs and LangChain runnables keep per-run state in the run's config,
not on the object, so one instance safely serves concurrent requests.
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

from agentdock.adapters.base import Adapter
from agentdock.errors import AgentDockError, AgentLoadError, NotReady
from agentdock.spec.models import DockSpec
from agentdock.telemetry.logs import RequestLog


class AgentHost:
    def __init__(
        self,
        spec: DockSpec,
        base_dir: Path,
        log: RequestLog,
        *,
        adapter: Adapter | None = None,
        agent: Any = None,
    ) -> None:
        self.spec = spec
        self.base_dir = base_dir
        self.log = log
        self._adapter = adapter
        self._given = agent  # a graph the caller built; wrapped by the adapter at load()
        self.agent: Any = None
        self.load_error: str | None = None
        self.load_ms: float | None = None
        self._lock = asyncio.Lock()

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            from agentdock.adapters import get_adapter

            self._adapter = get_adapter(self.spec.agent.framework)
        return self._adapter

    @property
    def ready(self) -> bool:
        return self.agent is not None

    def load(self) -> Any:
        """Build the agent if it is not built yet (idempotent); raise AgentLoadError on failure."""
        if self.agent is not None:
            return self.agent
        entrypoint = self.spec.agent.entrypoint
        config: dict[str, Any] = {**self.spec.arguments, "base_dir": str(self.base_dir), "spec": self.spec}
        started = time.perf_counter()
        try:
            if self._given is not None:
                # Built-in adapters can wrap a ready graph with the Dockfile's I/O mapping
                # (``prepare``); an object they already wrapped is used as it is.
                from agentdock.adapters.loading import LoadedAgent

                prepare = getattr(self.adapter, "prepare", None)
                if prepare is None or isinstance(self._given, LoadedAgent):
                    agent = self._given
                else:
                    agent = prepare(self._given, config)
            else:
                agent = self.adapter.load(entrypoint, config)
        except AgentDockError as exc:
            self.load_error = exc.name
            self.log.event(
                "error", "agent load failed", entrypoint=entrypoint, error=exc.name, detail=str(exc)
            )
            raise
        except Exception as exc:
            self.load_error = type(exc).__name__
            self.log.event("error", "agent load failed", entrypoint=entrypoint, error=type(exc).__name__)
            raise AgentLoadError(
                "agent.entrypoint", f"{entrypoint} failed to build the agent: {type(exc).__name__}: {exc}"
            ) from exc
        self.load_ms = (time.perf_counter() - started) * 1000.0
        self.agent = agent
        self.load_error = None
        self.log.event("info", "agent loaded", entrypoint=entrypoint, load_ms=round(self.load_ms, 1))
        return agent

    async def get(self) -> Any:
        """The agent for a request; builds it on first use when no lifespan did (503 on failure)."""
        agent = self.agent
        if agent is not None:
            return agent
        async with self._lock:
            try:
                return self.load()
            except AgentDockError:
                raise NotReady("the agent failed to load; see the runtime log") from None


def freeze_startup_heap() -> None:
    """Keep what startup built (modules, the app, the compiled graph: ~130k objects) out of the
    cyclic garbage collector's full passes (``gc.freeze``), for a long-lived server: ``agentdock serve`` and the image's entry point
    (``app_from_frozen``), after the graph is built.

    Under concurrent load the objects of in-flight requests outlive the young generations, so
    full collections come often, and each one walked the whole startup heap: at 32 concurrent
    requests on ``bench/tools_graph.py`` that was ~0.3 M instructions per request, with cache
    misses to match (bench/README.md). Frozen objects are still freed by reference counting; only
    cycles that were already garbage at this moment (a few hundred objects) stay. No collection
    is run first: it would cost ~50-80 ms of startup for that little.
    """
    gc.freeze()
