"""Helpers shared by the Cloud Run tests (imported as ``crhelpers``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentdock.targets.base import Artifact

from agentdock.build.flavours import SPEC_FILE
from agentdock.spec.models import DockSpec

PROJECT = "agents-prod-1"
REGION = "europe-west1"
IMAGE = "europe-west1-docker.pkg.dev/agents-prod-1/agents/summarizer@sha256:" + "ab" * 32


def spec_data(name: str = "summarizer", **cloudrun: Any) -> dict[str, Any]:
    """A valid Dockfile (as data): JWT from ${JWT_SECRET}, one gcp-sm:// secret, a Postgres store."""
    secrets = cloudrun.pop("secrets", {"JWT_SECRET": "gcp-sm://jwt-signing/3", "OPENAI_API_KEY": "env"})
    return {
        "version": "1.0",
        "agent": {"name": name, "entrypoint": "agent:build", "framework": "langgraph"},
        "model": {"provider": "openai", "name": "gpt-4o-mini"},
        "io_schema": {
            "input": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
            "output": {"type": "object", "properties": {"summary": {"type": "string"}}},
        },
        "auth": {"mode": "jwt", "jwt": {"secret_key": "${JWT_SECRET}"}},
        "metadata": {"version": "2.1.0"},
        "deploy": {
            "store": "postgresql://agentdock@10.0.0.5/agentdock",
            "secrets": secrets,
            "cloudrun": {"project": PROJECT, "region": REGION, **cloudrun},
        },
    }


def make_spec(name: str = "summarizer", **cloudrun: Any) -> DockSpec:
    return DockSpec.model_validate(spec_data(name, **cloudrun))


def make_artifact(
    root: Path, data: dict[str, Any], content: str = "one", image: str | None = None
) -> Artifact:
    """A build context folder holding the frozen spec (references kept), as [BUILD] writes it."""
    folder = root / f"ctx-{data['agent']['name']}-{content}"
    (folder / SPEC_FILE).parent.mkdir(parents=True, exist_ok=True)
    (folder / SPEC_FILE).write_text(json.dumps(data))
    return Artifact(str(folder), f"sha256:{content}", image, "cloudrun")
