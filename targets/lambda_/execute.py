"""The plan's vocabulary (frozen calls, late-bound references) and the executor that runs it.

A deploy is a list of ``Call`` s in phases (chalice's "plan of frozen dataclass calls"):

* ``prepare``  everything before traffic moves: image, role, function, version, health gate;
* ``switch``   the one call that moves the live alias (or starts a canary);
* ``finish``   the URL, its permissions, provisioned concurrency, the store record;
* ``undo``     run only when something failed *after* the switch: the alias goes back;
* ``abort``    run on any failure: the version is marked failed and the failure audited.

So a failure anywhere leaves live on the version it was on (or, for a first deploy, on the new
version that already passed its health gate), and a re-run plans again from what exists and
converges. Values known only at run time (the Lambda version ``publish_version`` returns) are
``Ref`` s, bound by the call that produces them (``save``). Dry-run prints the same calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdock.targets.base import Action
from agentdock.targets.lambda_.aws import ClientSource, cloud_error, error_code

from agentdock.errors import AgentDockError, DeployError

PREPARE, SWITCH, FINISH, UNDO, ABORT = "prepare", "switch", "finish", "undo", "abort"
MAIN_PHASES = (PREPARE, SWITCH, FINISH)
AGENTDOCK = "agentdock"  # service name of the steps that are not AWS calls (store, gate, build)
WAITER = "waiter"  # service name of a bounded boto3 Lambda waiter
_ROLE_NOT_READY = "cannot be assumed by Lambda"  # IAM is eventually consistent: a new role needs seconds

Step = Callable[[dict[str, Any]], dict[str, Any]]


class Ref(str):
    """A value bound while the plan runs (chalice's ``Variable``); it prints as ``${ref:name}``."""

    name: str

    def __new__(cls, name: str) -> Ref:
        obj = super().__new__(cls, "${ref:" + name + "}")
        obj.name = name
        return obj

    def __getnewargs__(self) -> tuple[str]:  # type: ignore[override]
        return (self.name,)


@dataclass(frozen=True)
class Call(Action):
    """One call of the plan. ``save`` binds names to dotted paths of the response; ``ok_errors``
    are AWS error codes that mean "already so" (the call is idempotent through them)."""

    phase: str = PREPARE
    save: dict[str, str] = field(default_factory=dict)
    ok_errors: tuple[str, ...] = ()


def lam(call: str, params: dict[str, Any], reason: str = "", phase: str = PREPARE, **kw: Any) -> Call:
    """A Lambda API call (boto3 method name)."""
    return Call("lambda", call, params, reason, phase, **kw)


def step(call: str, params: dict[str, Any], reason: str = "", phase: str = PREPARE, **kw: Any) -> Call:
    """An AgentDock step (store, gate, build): not an AWS call."""
    return Call(AGENTDOCK, call, params, reason, phase, **kw)


def wait(waiter: str, params: dict[str, Any]) -> Call:
    """A bounded boto3 Lambda waiter."""
    return Call(WAITER, waiter, params, "wait until Lambda settles")


def resolve(value: Any, values: Mapping[str, Any]) -> Any:
    """Replace every ``Ref`` (also as a dict key) by its bound value."""
    if isinstance(value, Ref):
        if value.name not in values:
            raise DeployError("plan", f"{value} is used before any call bound it")
        return values[value.name]
    if isinstance(value, dict):
        return {resolve(k, values): resolve(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, values) for v in value]
    return value


def dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


class Executor:
    """Runs calls against AWS (boto3) and the AgentDock steps; bounded waits and retries."""

    def __init__(
        self,
        aws: ClientSource,
        steps: Mapping[str, Step],
        *,
        wait_attempts: int = 300,
        role_retries: int = 12,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.aws, self.steps = aws, steps
        self.wait_attempts, self.role_retries, self.sleep = wait_attempts, role_retries, sleep
        self.progress = progress
        self.log: list[str] = []  # "service.call" of every call made, in order

    def execute(self, calls: Iterable[Call]) -> dict[str, Any]:
        calls = list(calls)
        values: dict[str, Any] = {}
        switched = False
        current: Call | None = None
        try:
            for current in (c for c in calls if c.phase in MAIN_PHASES):
                self._run(current, values)
                switched = switched or current.phase == SWITCH
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            error = self._error(current, exc)
            values["failed_call"] = f"{current.service}.{current.call}" if current else None
            values["error"] = error.to_dict()
            values["undone"] = switched and self._best_effort(c for c in calls if c.phase == UNDO)
            self._best_effort((c for c in calls if c.phase == ABORT), values)
            raise error from exc
        return values

    def _best_effort(self, calls: Iterable[Call], values: dict[str, Any] | None = None) -> bool:
        """Run compensating calls; one failing does not stop the others. True when all succeeded."""
        ok = True
        for call in calls:
            try:
                self._run(call, values if values is not None else {})
            except Exception:
                ok = False
        return ok

    def _run(self, call: Call, values: dict[str, Any]) -> None:
        params = resolve(call.params, values)
        self.log.append(f"{call.service}.{call.call}")
        if self.progress is not None and call.service != WAITER:
            self.progress(f"{call.service}.{call.call}" + (f": {call.reason}" if call.reason else ""))
        if call.service == AGENTDOCK:
            response = self.steps[call.call](params)
        elif call.service == WAITER:
            waiter = self.aws.client("lambda").get_waiter(call.call)
            try:
                waiter.wait(**params, WaiterConfig={"Delay": 1, "MaxAttempts": self.wait_attempts})
            except Exception as exc:
                raise DeployError(
                    f"lambda.{call.call}",
                    f"the function did not settle: {exc}",
                    hint="look at the function in the Lambda console (State / LastUpdateStatusReason), then re-run",
                ) from exc
            response = {}
        else:
            response = self._aws_call(call, params)
        for name, path in call.save.items():
            values[name] = dig(response, path)

    def _aws_call(self, call: Call, params: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self.aws.client(call.service), call.call)
        for attempt in range(self.role_retries + 1):
            try:
                return dict(method(**params))
            except Exception as exc:
                code = error_code(exc)
                if code is not None and code in call.ok_errors:
                    return {}
                if _ROLE_NOT_READY in str(exc) and attempt < self.role_retries:
                    self.sleep(min(2.0 * (attempt + 1), 5.0))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _error(call: Call | None, exc: Exception) -> AgentDockError:
        if isinstance(exc, AgentDockError):
            return exc
        if call is None:
            return DeployError("plan", f"{type(exc).__name__}: {exc}")
        if call.service == AGENTDOCK:
            return DeployError(f"agentdock.{call.call}", f"{type(exc).__name__}: {exc}")
        return cloud_error(call.service, _operation(call.call), exc)


def _operation(method: str) -> str:
    """boto3 method name -> API operation name (publish_version -> PublishVersion)."""
    return "".join(part.capitalize() for part in method.split("_"))
