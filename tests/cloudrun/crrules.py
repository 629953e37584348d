"""The stand-in's state and the rules it plays as the Cloud Run controller: a revision per new
template, traffic that names existing revisions and adds up to 100, output fields on a service."""

from __future__ import annotations

import base64
import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_REVISION_FIELDS = (
    "labels", "annotations", "scaling", "containers", "timeout", "serviceAccount",
    "maxInstanceRequestConcurrency", "executionEnvironment", "sessionAffinity",
)  # fmt: skip
_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ABORTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


Match = Callable[[dict[str, str], Any], bool]  # (query, body) -> is this the call to fail?


@dataclass
class Failure:
    status: int
    message: str
    match: Match | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class State:
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # full name -> service JSON
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)  # full name -> revision JSON
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # revision full name -> template
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (project, id) -> states
    requests: list[dict[str, Any]] = field(default_factory=list)  # every call: method, path, body, errors
    failures: dict[str, list[Failure]] = field(default_factory=dict)  # method -> queued errors
    failing_revisions: dict[str, str] = field(default_factory=dict)  # revision id -> failure message
    unhealthy: set[str] = field(default_factory=set)  # revision ids whose /health answers 503
    pending_operations: int = 0  # the next N operations never finish (wait timeouts)


def check_traffic(entries: list[dict[str, Any]], known: set[str]) -> None:
    total, tags = 0, set()
    for entry in entries:
        if (
            entry.get("type") == "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
            and entry.get("revision") not in known
        ):
            raise ApiError(400, f"traffic names revision {entry.get('revision')!r}, which does not exist")
        tag = entry.get("tag")
        if tag:
            if tag in tags or not re.match(r"^[a-z]([-a-z0-9]{0,44}[a-z0-9])?$", tag):
                raise ApiError(400, f"traffic tag {tag!r} is repeated or not a valid tag")
            tags.add(tag)
        total += int(entry.get("percent", 0))
    if entries and total != 100:
        raise ApiError(400, f"traffic percents add up to {total}, not 100")


def make_revision(state: State, service: str, rev_id: str, tpl: dict[str, Any], failure: str | None) -> None:
    rev_name = f"{service}/revisions/{rev_id}"
    revision = {k: copy.deepcopy(tpl[k]) for k in _REVISION_FIELDS if k in tpl}
    ready = {"type": "Ready", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": now()}
    if failure is not None:
        ready = {"type": "Ready", "state": "CONDITION_FAILED", "reason": "HEALTH_CHECK_CONTAINER_ERROR",
                 "message": failure, "lastTransitionTime": now()}  # fmt: skip
    revision |= {
        "name": rev_name, "uid": str(uuid.uuid4()), "generation": "1", "createTime": now(),
        "service": service.rsplit("/", 1)[1], "conditions": [ready], "reconciling": False,
    }  # fmt: skip
    state.revisions[rev_name] = revision
    state.templates[rev_name] = copy.deepcopy(tpl)


def service_output(
    endpoint: str, name: str, new: dict[str, Any], live: dict[str, Any] | None, rev_id: str
) -> dict[str, Any]:
    service_id = name.rsplit("/", 1)[1]
    base = f"{endpoint}/_serve/{service_id}"
    generation = int((live or {}).get("generation", "0")) + 1
    ready = {"type": "Ready", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": now()}
    statuses = [
        {k: v for k, v in t.items() if k in ("type", "revision", "percent", "tag")}
        | ({"uri": f"{base}/{t['tag']}"} if t.get("tag") else {})
        for t in new.get("traffic") or []
    ]
    return new | {
        "name": name, "uid": (live or {}).get("uid", str(uuid.uuid4())), "generation": str(generation),
        "observedGeneration": str(generation), "etag": f'"{uuid.uuid4().hex[:12]}"',
        "createTime": (live or {}).get("createTime", now()), "updateTime": now(),
        "uri": f"{base}/-", "urls": [f"{base}/-"], "latestCreatedRevision": f"{name}/revisions/{rev_id}",
        "latestReadyRevision": f"{name}/revisions/{rev_id}", "terminalCondition": ready,
        "conditions": [{"type": "RoutesReady", "state": "CONDITION_SUCCEEDED"}],
        "trafficStatuses": statuses, "reconciling": False,
    }  # fmt: skip


def etag(count: int) -> str:
    return base64.b64encode(str(count).encode()).decode()


def err(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}}
