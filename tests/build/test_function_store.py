"""The one rule for the store a deployed function reads (``build.function_store``), the extras that
follow it (``requirements.runtime_extras``) and the URL a deploy hands its target (``ops.stores``)."""

from __future__ import annotations

import pytest
from agentdock.targets.cloudrun.resolve import CLOUDRUN_STORE
from agentdock.targets.knative.model import KNATIVE_STORE

from agentdock.build.function_store import function_store_url, image_store_url
from agentdock.build.lambda_function import LAMBDA_STORE
from agentdock.build.requirements import runtime_extras, startup_modules
from agentdock.errors import DeployError
from agentdock.ops.stores import store_url_for
from agentdock.spec.frozen import spec_from_frozen

pytestmark = pytest.mark.unit

PG = "postgresql://agentdock@db.internal/agentdock"
DDB = "dynamodb://agentdock-meta?region=eu-west-1"
SQLITE = "sqlite:////home/me/.agentdock/agentdock.db"
BASE = {
    "version": "1.0",
    "agent": {"name": "a_b", "entrypoint": "agent:build", "framework": "langgraph"},
    "model": {"provider": "openai", "name": "gpt-4o-mini"},
    "io_schema": {"input": {"type": "object"}, "output": {"type": "object"}},
    "auth": {"mode": "api_key", "api_keys": {"enabled": True}},
}
READERS = [(LAMBDA_STORE, "function"), (KNATIVE_STORE, "service"), (CLOUDRUN_STORE, "service")]


def _spec(store: str | None = None, checkpointer: str | None = None) -> object:
    data: dict[str, object] = dict(BASE)
    if store:
        data["deploy"] = {"store": store}
    if checkpointer:
        data["state"] = {"checkpointer": checkpointer}
    return spec_from_frozen(data)


@pytest.mark.parametrize(("reader", "noun"), READERS, ids=["lambda", "knative", "cloudrun"])
def test_the_dockfile_store_else_the_deploys_own(reader: object, noun: str) -> None:
    assert function_store_url(PG, DDB, where=reader) == (PG, None)  # type: ignore[arg-type]
    assert function_store_url(None, PG, where=reader) == (PG, None)  # type: ignore[arg-type]
    assert function_store_url(DDB, SQLITE, where=reader) == (DDB, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("reader", "noun"), READERS, ids=["lambda", "knative", "cloudrun"])
def test_a_local_deploy_store_gives_none_with_a_warning(reader: object, noun: str) -> None:
    for local in (SQLITE, "memory://", "/tmp/x.db"):
        url, warning = function_store_url(None, local, where=reader)  # type: ignore[arg-type]
        assert url is None and warning is not None
        assert (
            warning.startswith(f"the {noun} gets no metadata store (") and "local to this machine" in warning
        )
    url, warning = function_store_url(None, None, where=reader)  # type: ignore[arg-type]
    assert url is None and warning is not None and warning.startswith(f"the {noun} gets no metadata store:")


@pytest.mark.parametrize(("reader", "noun"), READERS, ids=["lambda", "knative", "cloudrun"])
def test_a_local_dockfile_store_is_refused(reader: object, noun: str) -> None:
    for local in (SQLITE, "memory://x", "file:///tmp/x"):
        with pytest.raises(DeployError, match=f"the {noun} cannot reach it") as err:
            function_store_url(local, PG, where=reader)  # type: ignore[arg-type]
        assert err.value.path == "deploy.store"


@pytest.mark.parametrize(("reader", "noun"), READERS, ids=["lambda", "knative", "cloudrun"])
def test_a_password_is_refused_from_either_source(reader: object, noun: str) -> None:
    secret = "postgresql://agentdock:hunter2@db/agentdock"
    for dockfile, deploys in ((secret, None), (None, secret)):
        with pytest.raises(DeployError, match="carries a password") as err:
            function_store_url(dockfile, deploys, where=reader)  # type: ignore[arg-type]
        assert err.value.path == "deploy.store" and "hunter2" not in str(err.value)


def test_each_target_names_where_a_password_would_land() -> None:
    landed = {}
    for reader, _noun in READERS:
        with pytest.raises(DeployError) as err:
            function_store_url("postgresql://u:p@h/db", None, where=reader)
        landed[reader.noun, reader.lands_in] = err.value.cause
    assert [cause.split("land in ")[1] for cause in landed.values()] == [
        "the function's environment",
        "the manifest",
        "the revision's environment",
    ]


def test_the_image_carries_the_driver_of_the_store_the_function_reads() -> None:
    assert image_store_url(None, PG) == PG
    assert image_store_url(DDB, PG) == DDB  # the Dockfile's store wins, as for the function
    assert image_store_url(None, SQLITE) == ""  # a local deploy store: the function gets none
    assert image_store_url(SQLITE, None) == SQLITE  # as written (a deploy refuses it; a build renders)
    token = "dynamodb://${Token[TOKEN.60]}?region=${Token[AWS.Region.7]}"  # the CDK's table, unresolved
    assert image_store_url(None, token) == token
    assert runtime_extras("knative", _spec(), PG) == ("runtime", "postgres")
    assert runtime_extras("cloudrun", _spec(), PG) == ("runtime", "postgres")
    assert runtime_extras("lambda-stream", _spec(), PG) == ("runtime", "aws-runtime", "lambda", "postgres")
    assert runtime_extras("knative", _spec(), DDB) == ("runtime", "aws-runtime")
    assert runtime_extras("knative", _spec(), SQLITE) == ("runtime",)
    assert runtime_extras("knative", _spec(DDB), PG) == ("runtime", "aws-runtime")
    assert "psycopg" in startup_modules("knative", _spec(), PG)
    # threads kept in the store follow it too (the function's AGENTDOCK_STORE)
    assert runtime_extras("knative", _spec(checkpointer="store"), PG) == ("runtime", "postgres")
    assert runtime_extras("knative", _spec(checkpointer="store"), SQLITE) == ("runtime",)
    # the local flavour runs with the operator's store: only the Dockfile's counts, as before
    assert runtime_extras("local", _spec(), PG) == ("runtime",)


def test_a_deploy_hands_its_target_the_store_it_opens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path))
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    assert store_url_for(PG, _spec(DDB), "knative") == PG  # --store wins
    assert store_url_for(None, _spec(DDB), "knative") == DDB
    assert store_url_for(None, _spec(), "lambda") == "dynamodb://agentdock-meta"  # the target's default
    assert store_url_for(None, _spec(), "knative").startswith("sqlite:///")
    assert store_url_for(None, _spec(DDB), "local").startswith("sqlite:///")  # local ignores deploy.store
    monkeypatch.setenv("AGENTDOCK_STORE", PG)
    assert store_url_for(None, _spec(), "knative") == PG
    assert store_url_for(None, _spec(), "lambda") == PG
