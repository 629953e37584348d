"""Fixtures for the Lambda target tests: a moto server over HTTP, a store, ECR images, a target.

boto3 reaches the session ``moto_server`` (root conftest) through ``AWS_ENDPOINT_URL``, exactly as a
user would point the CLI at an emulator. The server is shared by the session, so every test uses
its own agent (and so function, role and repository) name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from agentdock.targets.lambda_ import LambdaTarget
from lambdahelpers import REGION, FakePreflight

from agentdock.store import MetadataStore, open_store


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the standard AWS chain at the moto server (HTTP on 127.0.0.1)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_REGION", raising=False)
    return moto_server


@pytest.fixture
def client(aws: str) -> Callable[[str], Any]:
    """Independent boto3 clients (not the target's) for checking what exists."""
    session = boto3.Session(region_name=REGION)
    return lambda service: session.client(service)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[MetadataStore]:
    with open_store(sqlite_url) as opened:
        yield opened


@pytest.fixture
def preflight() -> FakePreflight:
    return FakePreflight()


@pytest.fixture
def target(store: MetadataStore, aws: str, preflight: FakePreflight) -> LambdaTarget:
    return LambdaTarget(
        store=store, actor="tester", preflight=preflight, builder=False, sleep=lambda _s: None
    )


@pytest.fixture
def ecr_image(client: Callable[[str], Any]) -> Callable[[str, str], str]:
    """Push a fake image (a manifest only) to moto's ECR; returns its URI."""
    ecr = client("ecr")

    def push(repository: str, tag: str) -> str:
        try:
            uri = ecr.create_repository(repositoryName=repository)["repository"]["repositoryUri"]
        except ecr.exceptions.RepositoryAlreadyExistsException:
            uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]["repositoryUri"]
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1024,
                "digest": "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest(),
            },
            "layers": [],
        }
        ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
        return f"{uri}:{tag}"

    return push
