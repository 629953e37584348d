"""Fixtures for the Cloud Run tests: the run.v2.json-validating stand-in on 127.0.0.1, a client
(the real ``google-cloud-run`` one, REST over http, anonymous credentials) and a store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agentdock.targets.cloudrun.client import CloudRunClient
from crhelpers import PROJECT
from crstandin import CloudRunStandIn

from agentdock.store import MetadataStore, open_store


@pytest.fixture
def standin() -> Iterator[CloudRunStandIn]:
    with CloudRunStandIn() as api:
        api.add_secret(PROJECT, "jwt-signing", ("ENABLED", "ENABLED", "ENABLED"))
        api.add_secret(PROJECT, "OPENAI_API_KEY")
        yield api
        assert api.invalid_requests() == [], "a request did not validate against run.v2.json"


@pytest.fixture
def client(standin: CloudRunStandIn) -> CloudRunClient:
    return CloudRunClient(endpoint=standin.endpoint, timeout_s=5.0, poll_s=0.01)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[MetadataStore]:
    meta = open_store(sqlite_url, auto_init=True)
    yield meta
    meta.close()
