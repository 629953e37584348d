"""The LangGraph Server API subset that ``langgraph_sdk``, ``RemoteGraph`` and LangGraph's UI
hooks speak, served next to /invoke and /stream behind the same auth, roles, rate limits and
policies (docs/langgraph-api.md).

    assistants.py   the one assistant (= the agent = the graph)
    threads.py      threads and their state, kept in a LangGraph checkpointer (store/checkpoint.py)
    runs.py         wait / stream / background runs, cancel, join, join stream (Last-Event-ID)
    service.py      what the routes share: graph, checkpointer, run registry, input policy
    execute.py      one run: stream modes -> redacted SSE events, tool gating, timeout
    registry.py     runs of this process and their event logs
    sse.py          the SSE response that follows a run's log, with heartbeats
    wire.py         JSON shapes (messages, interrupts, checkpoints, thread state)

Mounted for ``agent.framework: langgraph`` only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from agentdock.runtime.langgraph_api.assistants import assistant_routes
from agentdock.runtime.langgraph_api.runs import run_routes
from agentdock.runtime.langgraph_api.service import LangGraphAPI
from agentdock.runtime.langgraph_api.threads import thread_routes
from agentdock.runtime.pipeline import Pipeline
from agentdock.spec.models import DockSpec


def build_langgraph_api(spec: DockSpec, pipeline: Pipeline) -> LangGraphAPI | None:
    """The API for ``spec``, or None when the agent is not a LangGraph graph."""
    if spec.agent.framework != "langgraph":
        return None
    from agentdock.store.checkpoint import check_url, checkpointer_url

    state = spec.state
    url = checkpointer_url(state.checkpointer, state.url, spec.deploy.store if spec.deploy else None)
    if url is not None:  # refuse at startup (one clear log line), not on the first thread request
        check_url(url, "state.url" if spec.state.url else "AGENTDOCK_STORE / deploy.store")
    return LangGraphAPI(spec, pipeline, url)


def langgraph_routes(api: LangGraphAPI, version: str) -> list[BaseRoute]:
    return [*assistant_routes(api, version), *thread_routes(api), *run_routes(api)]


def mount_langgraph_api(
    app: Starlette, spec: DockSpec, pipeline: Pipeline, version: str
) -> LangGraphAPI | None:
    """Add the routes to ``app`` and open the thread checkpointer inside the app's lifespan
    (after the agent is built, closed before the app's own shutdown)."""
    api = build_langgraph_api(spec, pipeline)
    if api is None:
        return None
    app.router.routes.extend(langgraph_routes(api, version))
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state, api.lifespan():
            yield state

    app.router.lifespan_context = lifespan
    return api


__all__ = ["LangGraphAPI", "build_langgraph_api", "langgraph_routes", "mount_langgraph_api"]
