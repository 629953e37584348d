"""The LangGraph API's shared state for one app: the graph, the checkpointer, the runs.

``LangGraphAPI.lifespan()`` opens the checkpointer the Dockfile asks for (``state``) next to
the agent build; without a lifespan (an ASGI host that runs none) the first request opens it.
``start_run`` turns a validated run request into a running task (see ``execute.py``); every
route only reads the run's record and event log.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

from langgraph.types import Command

from agentdock.errors import Conflict, NotFound, ValidationFailed
from agentdock.runtime.langgraph_api.execute import execute
from agentdock.runtime.langgraph_api.models import RunCreate
from agentdock.runtime.langgraph_api.registry import RunRecord, RunRegistry, new_id
from agentdock.runtime.langgraph_api.threads_store import ThreadStore, run_metadata
from agentdock.runtime.pipeline import Pipeline
from agentdock.spec.models import DockSpec

if TYPE_CHECKING:  # annotations only (the protocols' module moves on main: agentdock.stages)
    from agentdock.stages import Principal

NO_THREADS_FIX = "add 'state: {checkpointer: store}' (or memory) to the Dockfile"
NO_THREADS = f"this agent keeps no thread state: {NO_THREADS_FIX}"  # the envelope shows the cause only
RESERVED_CONFIGURABLE = frozenset({"thread_id", "checkpoint_ns", "checkpoint_map", "checkpoint_id"})


class LangGraphAPI:
    def __init__(self, spec: DockSpec, pipeline: Pipeline, checkpointer_url: str | None) -> None:
        self.spec = spec
        self.pipeline = pipeline
        self.url = checkpointer_url
        self.runs = RunRegistry()
        self.threads: ThreadStore | None = None
        self._stateful: Any = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    # --- lifecycle -------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        try:
            await self.start()
            yield
        finally:
            await self.stop()

    async def start(self) -> None:
        async with self._lock:
            if self._stack is not None or self.url is None:
                return
            from agentdock.store.checkpoint import open_checkpointer

            stack = AsyncExitStack()
            saver = await stack.enter_async_context(open_checkpointer(self.url))
            self._stack, self.threads = stack, ThreadStore(saver)

    async def stop(self) -> None:
        for run in self.runs.unfinished():
            if run.task is not None:
                run.task.cancel()
        stack, self._stack, self.threads, self._stateful = self._stack, None, None, None
        if stack is not None:
            await stack.aclose()

    async def thread_store(self) -> ThreadStore:
        if self.url is None:
            raise Conflict(NO_THREADS, path="state.checkpointer", hint=NO_THREADS_FIX)
        if self.threads is None:
            await self.start()
        assert self.threads is not None
        return self.threads

    # --- graphs ----------------------------------------------------------------------------

    async def loaded(self) -> Any:
        return await self.pipeline.host.get()

    async def graph(self, stateful: bool) -> Any:
        loaded = await self.loaded()
        if not stateful:
            return loaded.runnable
        threads = await self.thread_store()
        if self._stateful is None:
            self._stateful = loaded.runnable.copy(update={"checkpointer": threads.saver})
        return self._stateful

    # --- input -----------------------------------------------------------------------------

    def graph_input(self, body: RunCreate, loaded: Any) -> Any:
        """Run input after the input policy: a ``Command`` for ``command``, the Dockfile's
        input fields mapped like /invoke's when they validate, else the graph state as sent."""
        pre = self.pipeline.policy.pre
        if body.command is not None:
            command = pre(body.command)
            return Command(
                resume=command.get("resume"),
                update=command.get("update"),
                goto=command.get("goto") or (),
            )
        if body.input is None:
            return None
        data = pre(body.input)
        if "messages" not in data:
            try:
                checked = self.pipeline.contract.check_input(data, ("body", "input"))
            except ValidationFailed:
                return data
            from agentdock.adapters.langgraph import graph_input

            return graph_input(loaded.runnable, checked, loaded)
        return data

    # --- runs ------------------------------------------------------------------------------

    async def start_run(
        self, principal: Principal, body: RunCreate, thread_id: str | None, trace_id: str
    ) -> RunRecord:
        if body.assistant_id != self.spec.agent.name:
            raise NotFound(f"assistant {body.assistant_id!r} not found", path="assistant_id")
        loaded = await self.loaded()
        graph_input = self.graph_input(body, loaded)
        overrides: dict[str, Any] = _user_config(body)
        meta: dict[str, Any] = {}
        if thread_id is not None:
            threads = await self.thread_store()
            found = await threads.latest(thread_id)
            if found is None and body.if_not_exists == "create":
                name = self.spec.agent.name
                found = await threads.create(
                    thread_id, principal, {"graph_id": name, "assistant_id": name}, None
                )
            tup = threads.check_owner(found, principal, thread_id)
            if body.multitask_strategy == "reject" and self.runs.active(thread_id):
                raise Conflict(f"thread {thread_id} has a run in progress", path="multitask_strategy")
            meta = run_metadata(tup)
            overrides["configurable"] = {**overrides.get("configurable", {}), "thread_id": thread_id}
            if body.checkpoint_id:
                overrides["configurable"]["checkpoint_id"] = body.checkpoint_id
        overrides["metadata"] = {**(overrides.get("metadata") or {}), **meta}
        graph = await self.graph(thread_id is not None)
        run = RunRecord(
            run_id=new_id(),
            thread_id=thread_id,
            assistant_id=self.spec.agent.name,
            owner=principal.owner,
            metadata=body.metadata or {},
            multitask_strategy=body.multitask_strategy or "enqueue",
        )
        kwargs: dict[str, Any] = {}
        if body.context:
            kwargs["context"] = body.context
        for name in ("interrupt_before", "interrupt_after"):
            value = getattr(body, name)
            if value:
                kwargs[name] = value
        job = functools.partial(
            execute,
            run,
            graph,
            graph_input,
            ctx=self.pipeline.context(trace_id, {}),
            base_config=loaded.base_config,
            overrides=overrides,
            kwargs=kwargs,
            modes=body.modes(),
            policy=self.pipeline.policy,
            timeout_s=self.pipeline.settings.timeout_s,
        )

        async def go() -> None:
            try:
                if thread_id is None:
                    await job()
                    return
                async with self.runs.thread_lock(thread_id):  # "enqueue": runs on a thread take turns
                    if not run.done.is_set():  # not cancelled while it waited
                        await job()
            except asyncio.CancelledError:
                if not run.done.is_set():
                    run.finish("interrupted")

        self.runs.add(run)
        run.task = asyncio.get_running_loop().create_task(go())
        return run

    def visible_run(self, run_id: str, thread_id: str | None, principal: Principal) -> RunRecord:
        run = self.runs.get(run_id)
        if (
            run is None
            or (thread_id is not None and run.thread_id != thread_id)
            or (run.owner != principal.owner and not principal.sees_all)
        ):
            raise NotFound(f"run {run_id} not found", path="run_id")
        return run

    async def cancel(self, run: RunRecord) -> None:
        if run.done.is_set():
            return
        if run.task is not None:
            run.task.cancel()
        if run.status == "pending":
            run.finish("interrupted")


def _user_config(body: RunCreate) -> dict[str, Any]:
    """The parts of the client's ``config`` a run may set (never our reserved keys)."""
    config = body.config or {}
    out: dict[str, Any] = {}
    configurable = config.get("configurable") or {}
    if not isinstance(configurable, dict):
        raise ValidationFailed("config.configurable must be an object", path="config.configurable")
    out["configurable"] = {
        k: v for k, v in configurable.items() if k not in RESERVED_CONFIGURABLE and not k.startswith("__")
    }
    for key in ("recursion_limit", "tags"):
        if key in config:
            out[key] = config[key]
    return out
