"""Parallel rollbacks end with the live alias and the store pointer agreeing; drift is repaired.

moto (5.x) does not implement ``UpdateAlias``'s ``RevisionId`` precondition (its docstring says so,
and it never changes an alias's RevisionId), so two racing ``UpdateAlias`` calls both succeed there
and a compensating step can overwrite a winner: a lost race cannot happen as on AWS.
``RevisionCheckedLambda`` wraps the real boto3 client of the moto server and adds what AWS does:
a fresh RevisionId per alias write and ``PreconditionFailedException`` (412) when the RevisionId
given is stale, plus a random pause of up to 10 ms after each alias call to widen the race window.
Everything else (aliases, versions, the store) is real: moto over HTTP, one SQLite store opened
separately by each thread, as two CLI processes would.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from agentdock.targets.lambda_ import LambdaTarget
from botocore.exceptions import ClientError
from lambdahelpers import make_artifact, make_spec, unique_name

from agentdock.errors import DeployConflict
from agentdock.store import MetadataStore, open_store
from agentdock.testing.aws import FakeAwsClients

pytestmark = pytest.mark.integration
ROUNDS = 30


class RevisionCheckedLambda:
    """The moto Lambda client plus AWS's alias RevisionId precondition (see the module docstring)."""

    def __init__(self, real: Any, seed: int) -> None:
        self._real, self._lock, self._random = real, threading.Lock(), random.Random(seed)
        self._revisions: dict[tuple[str, str], str] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _revision(self, key: tuple[str, str]) -> str:
        return self._revisions.setdefault(key, uuid.uuid4().hex)

    def _pause(self) -> None:
        time.sleep(self._random.uniform(0, 0.01))

    def get_alias(self, **params: Any) -> dict[str, Any]:
        with self._lock:
            alias = dict(self._real.get_alias(**params))
            alias["RevisionId"] = self._revision((params["FunctionName"], params["Name"]))
        self._pause()
        return alias

    def update_alias(self, **params: Any) -> dict[str, Any]:
        key = (params["FunctionName"], params["Name"])
        given = params.pop("RevisionId", None)
        with self._lock:
            if given is not None and given != self._revision(key):
                error = {"Code": "PreconditionFailedException", "Message": "RevisionId does not match"}
                raise ClientError(
                    {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 412}}, "UpdateAlias"
                )
            alias = dict(self._real.update_alias(**params))
            alias["RevisionId"] = self._revisions[key] = uuid.uuid4().hex
        self._pause()
        return alias


def _deploy_three(target: LambdaTarget, ecr_image: Any, tmp_path: Path) -> str:
    name = unique_name("race")
    spec = make_spec(name)
    for tag in ("one", "two", "three"):
        image = ecr_image(f"agentdock/{name}", tag)
        target.apply(target.plan(spec, make_artifact(tmp_path / tag, tag), image_uri=image))
    return name


def _roll(
    url: str, checked: Any, name: str, version: int, barrier: threading.Barrier, outcome: dict[int, str]
) -> None:
    """One racer: its own store connection and target (as a second CLI process), the shared AWS."""
    with open_store(url) as own:
        mine = LambdaTarget(
            store=own,
            actor=f"racer-{version}",
            aws_factory=lambda region: FakeAwsClients({"lambda": checked}, region=region),
        )
        barrier.wait()
        try:
            outcome[version] = mine.rollback(name, version).status
        except DeployConflict:
            outcome[version] = "conflict"


def _agree(store: MetadataStore, client: Any, name: str) -> tuple[int, str]:
    pointer = store.get_pointer(name, "lambda")
    assert pointer is not None and pointer.live_version is not None
    alias = client("lambda").get_alias(FunctionName=name, Name="live")
    lv = pointer.details["lambda_versions"][str(pointer.live_version)]
    assert alias["FunctionVersion"] == pointer.details["lambda_version"] == lv
    assert not ((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
    return pointer.live_version, lv


def test_thirty_rounds_of_two_parallel_rollbacks_end_consistent(
    target: LambdaTarget, store: MetadataStore, client: Any, ecr_image: Any, sqlite_url: str, tmp_path: Path
) -> None:
    name = _deploy_three(target, ecr_image, tmp_path)
    checked = RevisionCheckedLambda(client("lambda"), seed=17)
    conflicts = 0
    for round_ in range(ROUNDS):
        live, _ = _agree(store, client, name)
        wanted = [v for v in (1, 2, 3) if v != live]
        barrier = threading.Barrier(2)
        outcome: dict[int, str] = {}

        threads = [
            threading.Thread(target=_roll, args=(sqlite_url, checked, name, v, barrier, outcome))
            for v in wanted
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcome) == wanted, f"round {round_}: a rollback did not finish: {outcome}"
        conflicts += list(outcome.values()).count("conflict")
        now, _ = _agree(store, client, name)  # no repair needed: the movers settled the alias
        assert now in [v for v, status in outcome.items() if status == "live"], f"round {round_}: {outcome}"
        assert target.status(name).details["drift"] is False
    assert conflicts > 0, "the two rollbacks never raced: the test did not exercise the race"


def test_drift_is_reported_and_repaired_towards_the_pointer(
    target: LambdaTarget, store: MetadataStore, client: Any, ecr_image: Any, tmp_path: Path
) -> None:
    name = unique_name("drift")
    spec = make_spec(name)
    for tag in ("one", "two"):
        image = ecr_image(f"agentdock/{name}", tag)
        target.apply(target.plan(spec, make_artifact(tmp_path / tag, tag), image_uri=image))
    # a crash between UpdateAlias and the pointer write leaves the alias on an uncommitted move
    client("lambda").update_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert target.status(name).details["drift"] is True

    again = target.rollback(name, 2)  # a rollback to the live version: the manual repair
    assert again.status == "unchanged"
    assert _agree(store, client, name) == (2, "2")
    repair = store.list_audit(name)[0]
    assert repair.action == "repair" and (repair.details["from"], repair.details["to"]) == ("1", "2")
    assert target.status(name).details["drift"] is False

    client("lambda").update_alias(FunctionName=name, Name="live", FunctionVersion="1")
    back = target.rollback(name)  # a real move starts from the repaired alias and lands on v1
    assert (back.version, back.previous_version) == (1, 2)
    assert _agree(store, client, name) == (1, "1")
    actions = [a.action for a in store.list_audit(name)[:2]]
    assert actions == ["rollback", "repair"]
