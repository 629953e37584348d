"""Helpers shared by the Lambda target tests (imported as ``lambdahelpers``: ``lambda`` is a keyword).

Doubles, named as such: ``FakePreflight`` stands in for ``agentdock.targets.local.preflight`` where a
test is about the deploy flow and not about running a context (the real one runs in
``test_lambda_build_integration.py``); ``FaultInjector`` raises for one named Lambda operation of a
target through a botocore ``before-call`` hook.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdock.targets.base import Artifact
from agentdock.targets.lambda_ import LambdaTarget

from agentdock.errors import HealthGateFailed
from agentdock.spec.models import DockSpec

REGION = "us-east-1"
STREAM_DOCKERFILE = """FROM python:3.11-slim
COPY --from=public.ecr.aws/awsguru/aws-lambda-adapter:1.0.0-rc1 /lambda-adapter /opt/extensions/lambda-adapter
ENV PYTHONUNBUFFERED=1 \\
    AWS_LWA_PORT=8080 \\
    AWS_LWA_INVOKE_MODE={mode} \\
    AGENTDOCK_SPEC=/app/agent/agentdock.spec.json
CMD ["sh", "-c", "exec python -m uvicorn entry:app --port 8080"]
"""
BUFFERED_DOCKERFILE = """FROM public.ecr.aws/lambda/python:3.11
ENV PYTHONUNBUFFERED=1 AGENTDOCK_SPEC=/var/task/agent/agentdock.spec.json
CMD ["agentdock.runtime.lambda_handler.handler"]
"""


def unique_name(prefix: str = "agent") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_spec(name: str, *, streaming: str = "sse", cors: list[str] | None = None, **deploy: Any) -> DockSpec:
    """A valid DockSpec; ``deploy`` keys go to ``deploy.lambda`` except ``store``, ``secrets``, ``env``."""
    top = {k: deploy.pop(k) for k in ("store", "secrets", "env") if k in deploy}
    data: dict[str, Any] = {
        "version": "1.0",
        "agent": {"name": name, "entrypoint": "agent:build", "framework": "langgraph"},
        "model": {"provider": "openai", "name": "gpt-4o-mini"},
        "io_schema": {
            "input": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
            "output": {"type": "object", "properties": {"summary": {"type": "string"}}},
        },
        "auth": {"mode": "api_key", "api_keys": {"enabled": True}},
        "expose": {
            "streaming": streaming,
            **({"cors": {"origins": cors, "methods": ["GET", "POST"]}} if cors else {}),
        },
        "deploy": {**top, "lambda": deploy},
    }
    return DockSpec.model_validate(data)


def make_artifact(
    root: Path, content: str, *, streaming: bool = True, lwa_mode: str | None = None
) -> Artifact:
    """A build context folder with a Dockerfile like the one [BUILD] renders for the flavour."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    folder = root / f"ctx-{digest[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    text = STREAM_DOCKERFILE.format(mode=lwa_mode or "response_stream") if streaming else BUFFERED_DOCKERFILE
    if lwa_mode and not streaming:
        text += f"ENV AWS_LWA_INVOKE_MODE={lwa_mode}\n"
    (folder / "Dockerfile").write_text(text)
    return Artifact(
        str(folder), f"sha256:{digest}", None, "lambda-stream" if streaming else "lambda-buffered"
    )


@dataclass
class FakePreflight:
    """Double of ``agentdock.targets.local.preflight``: records the contexts it was asked to run."""

    fail: bool = False
    calls: list[Path] = field(default_factory=list)

    def __call__(self, context_dir: Path, *, timeout_s: float = 30.0) -> dict[str, Any]:
        self.calls.append(Path(context_dir))
        if self.fail:
            raise HealthGateFailed("/health", "preflight: GET /health answered 500")
        return {"health": 200, "schema": 200}


class InjectedFault(Exception):
    """What the fault hook raises (never an AWS error: the deploy must not treat it as 'already so')."""


@dataclass
class FaultInjector:
    """Raise ``InjectedFault`` on the next ``count`` calls of one Lambda operation of ``target``."""

    target: LambdaTarget
    operation: str
    count: int = 1
    fired: int = 0

    def __enter__(self) -> FaultInjector:
        self._events().register(f"before-call.lambda.{self.operation}", self._raise, unique_id=id(self))
        return self

    def __exit__(self, *exc: object) -> None:
        self._events().unregister(f"before-call.lambda.{self.operation}", unique_id=id(self))

    def _events(self) -> Any:
        return self.target.aws(REGION).lambda_.meta.events

    def _raise(self, **_kwargs: Any) -> None:
        if self.fired < self.count:
            self.fired += 1
            raise InjectedFault(f"injected fault in {self.operation}")
