"""Thread routes: create, get, search, delete, state get/update, history.

A thread exists only when the Dockfile keeps state (``state.checkpointer``); otherwise these
routes answer 409 with the Dockfile line that turns it on. Values leave through the output
policy (``policy.redact``), state updates enter through the input policy (``policy.pre``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import CheckpointTuple
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from agentdock.runtime.langgraph_api.models import (
    HistoryQuery,
    StateAt,
    StateUpdate,
    ThreadCreate,
    ThreadSearch,
    parse,
    validate,
)
from agentdock.runtime.langgraph_api.runs import json_response
from agentdock.runtime.langgraph_api.service import LangGraphAPI
from agentdock.runtime.langgraph_api.threads_store import CREATED, ROOT, run_metadata, thread_metadata
from agentdock.runtime.langgraph_api.wire import jsonable, thread_state

if TYPE_CHECKING:  # annotations only (the protocols' module moves on main: agentdock.stages)
    from agentdock.stages import Principal


def thread_routes(api: LangGraphAPI) -> list[BaseRoute]:
    guard = api.pipeline.guard
    policy = api.pipeline.policy
    redact = getattr(policy, "redact", lambda v: v)

    def config(thread_id: str, tup: CheckpointTuple, checkpoint_id: str | None = None) -> dict[str, Any]:
        conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
        if checkpoint_id:
            conf["checkpoint_id"] = checkpoint_id
        return {"configurable": conf, "metadata": run_metadata(tup)}

    async def state_of(thread_id: str, tup: CheckpointTuple, checkpoint_id: str | None = None) -> Any:
        graph = await api.graph(stateful=True)
        return await graph.aget_state(config(thread_id, tup, checkpoint_id))

    async def wire_thread(thread_id: str, tup: CheckpointTuple) -> dict[str, Any]:
        snapshot = await state_of(thread_id, tup)
        interrupts: dict[str, list[Any]] = {}
        for task in snapshot.tasks or ():
            if task.interrupts:
                interrupts[task.id] = jsonable(list(task.interrupts))
        status = "busy" if api.runs.active(thread_id) else ("interrupted" if interrupts else "idle")
        updated = tup.checkpoint.get("ts")
        return {
            "thread_id": thread_id,
            "created_at": tup.metadata.get(CREATED) or updated,
            "updated_at": updated,
            "state_updated_at": updated,
            "metadata": thread_metadata(tup),
            "status": status,
            "values": redact(jsonable(snapshot.values)),
            "interrupts": redact(interrupts),
            "config": {"configurable": {}},
            "error": None,
        }

    async def owned(request: Request) -> tuple[str, CheckpointTuple, Principal]:
        principal = await guard(request, "invoke")
        thread_id = request.path_params["thread_id"]
        threads = await api.thread_store()
        return thread_id, await threads.owned(thread_id, principal), principal

    async def create(request: Request) -> Response:
        principal = await guard(request, "invoke")
        body = parse(ThreadCreate, await request.body())
        threads = await api.thread_store()
        thread_id = body.thread_id or str(uuid.uuid4())
        name = api.spec.agent.name
        metadata = {**body.metadata, "graph_id": name, "assistant_id": name}
        tup = await threads.create(thread_id, principal, metadata, body.if_exists)
        return json_response(await wire_thread(thread_id, tup))

    async def get(request: Request) -> Response:
        thread_id, tup, _ = await owned(request)
        return json_response(await wire_thread(thread_id, tup))

    async def search(request: Request) -> Response:
        principal = await guard(request, "invoke")
        body = parse(ThreadSearch, await request.body())
        threads = await api.thread_store()
        rows = await threads.search(principal, body.metadata)
        if body.ids:
            rows = [t for t in rows if t.config["configurable"]["thread_id"] in body.ids]
        out = []
        for tup in rows:
            wired = await wire_thread(tup.config["configurable"]["thread_id"], tup)
            if body.status is None or wired["status"] == body.status:
                out.append(wired)
        return json_response(out[body.offset : body.offset + body.limit])

    async def delete(request: Request) -> Response:
        thread_id, _, _ = await owned(request)
        api.runs.drop_thread(thread_id)
        await (await api.thread_store()).delete(thread_id)
        return Response(status_code=204)

    async def get_state(request: Request) -> Response:
        thread_id, tup, _ = await owned(request)
        checkpoint_id = request.path_params.get("checkpoint_id")
        if request.method == "POST":  # /state/checkpoint: {"checkpoint": {...}}
            at = parse(StateAt, await request.body())
            checkpoint_id = (at.checkpoint or {}).get("checkpoint_id")
        snapshot = await state_of(thread_id, tup, checkpoint_id)
        return json_response(redact(thread_state(snapshot)))

    async def update_state(request: Request) -> Response:
        thread_id, tup, _ = await owned(request)
        body = parse(StateUpdate, await request.body())
        checkpoint_id = body.checkpoint_id or (body.checkpoint or {}).get("checkpoint_id")
        values = policy.pre({"values": body.values})["values"]
        graph = await api.graph(stateful=True)
        new = await graph.aupdate_state(config(thread_id, tup, checkpoint_id), values, as_node=body.as_node)
        conf = new["configurable"]
        return json_response(
            {"checkpoint": {k: conf.get(k) for k in ("thread_id", "checkpoint_ns", "checkpoint_id")}}
        )

    async def history(request: Request) -> Response:
        thread_id, tup, _ = await owned(request)
        if request.method == "GET":
            body = validate(HistoryQuery, dict(request.query_params))
        else:
            body = parse(HistoryQuery, await request.body())
        before = body.before
        if isinstance(before, str):
            before = {"configurable": {"checkpoint_id": before}}
        graph = await api.graph(stateful=True)
        out = []
        async for snapshot in graph.aget_state_history(
            config(thread_id, tup), filter=body.metadata, before=before, limit=body.limit + 1
        ):
            if (snapshot.metadata or {}).get(ROOT):
                continue
            out.append(redact(thread_state(snapshot)))
        return json_response(out[: body.limit])

    base = "/threads/{thread_id}"
    return [
        Route("/threads", create, methods=["POST"]),
        Route("/threads/search", search, methods=["POST"]),
        Route(base, get, methods=["GET"]),
        Route(base, delete, methods=["DELETE"]),
        Route(f"{base}/state", get_state, methods=["GET"]),
        Route(f"{base}/state", update_state, methods=["POST"]),
        Route(f"{base}/state/checkpoint", get_state, methods=["POST"]),
        Route(f"{base}/state/{{checkpoint_id}}", get_state, methods=["GET"]),
        Route(f"{base}/history", history, methods=["GET", "POST"]),
    ]
