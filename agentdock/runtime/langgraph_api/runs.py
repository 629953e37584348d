"""Run routes: wait, stream, background create, get/list/delete, cancel, join, join stream.

Every route is ``guard(request, "invoke")`` (the same authentication, roles and rate limits
as /invoke) and then the run registry. A run on a thread checks the thread's owner first.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from agentdock.runtime.langgraph_api.models import CancelMany, RunCreate, RunList, parse, validate
from agentdock.runtime.langgraph_api.registry import RunRecord
from agentdock.runtime.langgraph_api.service import LangGraphAPI
from agentdock.runtime.langgraph_api.sse import last_event_id, run_event_stream, run_paths
from agentdock.runtime.langgraph_api.wire import dumps
from agentdock.runtime.runlog import LogStream

JSON = "application/json"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type=JSON, headers=headers)


def run_routes(api: LangGraphAPI) -> list[BaseRoute]:
    guard = api.pipeline.guard
    heartbeat_s = api.pipeline.settings.heartbeat_s

    async def start(request: Request) -> tuple[RunRecord, RunCreate]:
        principal = await guard(request, "invoke")
        body = parse(RunCreate, await request.body())
        thread_id = request.path_params.get("thread_id")
        run = await api.start_run(principal, body, thread_id, request.scope["state"]["trace_id"])
        return run, body

    def located(run: RunRecord, location: str | None = None) -> dict[str, str]:
        content, stream = run_paths(run)
        return {"Content-Location": content, "Location": location or stream}

    async def create(request: Request) -> Response:
        run, _ = await start(request)
        return json_response(run.wire(), headers=located(run, run_paths(run)[0] + "/join"))

    async def stream(request: Request) -> LogStream:
        run, body = await start(request)
        return run_event_stream(run, 0, heartbeat_s, body.on_disconnect == "cancel")

    async def wait(request: Request) -> Response:
        run, _ = await start(request)
        await run.done.wait()
        return json_response(run.result or {}, headers=located(run, run_paths(run)[0] + "/join"))

    async def visible(request: Request) -> RunRecord:
        principal = await guard(request, "invoke")
        params = request.path_params
        return api.visible_run(params["run_id"], params.get("thread_id"), principal)

    async def get(request: Request) -> Response:
        return json_response((await visible(request)).wire())

    async def list_runs(request: Request) -> Response:
        principal = await guard(request, "invoke")
        thread_id = request.path_params["thread_id"]
        threads = await api.thread_store()
        await threads.owned(thread_id, principal)
        query = validate(RunList, dict(request.query_params))
        limit, offset, status = query.limit, query.offset, query.status
        runs = [r.wire() for r in api.runs.for_thread(thread_id) if status is None or r.status == status]
        return json_response(runs[offset : offset + limit])

    async def delete(request: Request) -> Response:
        run = await visible(request)
        await api.cancel(run)
        api.runs.remove(run.run_id)
        return Response(status_code=204)

    async def cancel(request: Request) -> Response:
        run = await visible(request)
        await api.cancel(run)
        if request.query_params.get("wait") in ("1", "true", "True"):
            await run.done.wait()
        return Response(status_code=204)

    async def cancel_many(request: Request) -> Response:
        """``run_ids``, else every run of ``thread_id``, else (``status``) every unfinished run;
        only the caller's own runs (admins: all) are touched."""
        principal = await guard(request, "invoke")
        data = parse(CancelMany, await request.body())
        if data.run_ids:
            runs = [r for r in map(api.runs.get, data.run_ids) if r is not None]
        elif data.thread_id:
            runs = api.runs.for_thread(data.thread_id)
        else:
            runs = api.runs.unfinished() if data.status else []
        for run in runs:
            if run.owner == principal.owner or principal.sees_all:
                await api.cancel(run)
        return Response(status_code=204)

    async def join(request: Request) -> Response:
        run = await visible(request)
        await run.done.wait()
        return json_response(run.result or {})

    async def join_stream(request: Request) -> LogStream:
        run = await visible(request)
        after = last_event_id(request.headers.get("last-event-id"))
        cancel_on_disconnect = request.query_params.get("cancel_on_disconnect") in ("1", "true", "True")
        return run_event_stream(run, after, heartbeat_s, cancel_on_disconnect)

    thread = "/threads/{thread_id}/runs"
    return [
        Route("/runs", create, methods=["POST"]),
        Route("/runs/stream", stream, methods=["POST"]),
        Route("/runs/wait", wait, methods=["POST"]),
        Route("/runs/cancel", cancel_many, methods=["POST"]),
        Route("/runs/{run_id}", get, methods=["GET"]),
        Route("/runs/{run_id}/stream", join_stream, methods=["GET"]),
        Route("/runs/{run_id}/join", join, methods=["GET"]),
        Route(thread, create, methods=["POST"]),
        Route(thread, list_runs, methods=["GET"]),
        Route(f"{thread}/stream", stream, methods=["POST"]),
        Route(f"{thread}/wait", wait, methods=["POST"]),
        Route(f"{thread}/{{run_id}}", get, methods=["GET"]),
        Route(f"{thread}/{{run_id}}", delete, methods=["DELETE"]),
        Route(f"{thread}/{{run_id}}/cancel", cancel, methods=["POST"]),
        Route(f"{thread}/{{run_id}}/join", join, methods=["GET"]),
        Route(f"{thread}/{{run_id}}/stream", join_stream, methods=["GET"]),
    ]
