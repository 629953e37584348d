"""Build flavours: which Dockerfile a target ships, its pinned base images, and how it starts.

Canonical flavour names live here once (knative/func habit); which target ships which flavour is
in ``agentdock.targets_catalog``, so a target can never ask for a flavour the renderer does not know.

Base images are pinned by tag. No digests are stated because none could be verified from this
machine (no registry access); pin digests in your own registry mirror if you need them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from agentdock.errors import BuildError
from agentdock.targets_catalog import TARGET_NAMES, entry

if TYPE_CHECKING:
    from agentdock.spec.models import DockSpec

LOCAL = "local"
LAMBDA_STREAM = "lambda-stream"
LAMBDA_BUFFERED = "lambda-buffered"
KNATIVE = "knative"
CLOUDRUN = "cloudrun"
FLAVOURS: tuple[str, ...] = (LOCAL, LAMBDA_STREAM, LAMBDA_BUFFERED, KNATIVE, CLOUDRUN)

# Slim Debian Python for every uvicorn flavour (Lambda streaming included: the Web Adapter
# extension works with any base image except the AWS-managed Lambda ones).
PYTHON_IMAGE = "python:3.11.11-slim-bookworm"
# The AWS-managed Lambda Python base (runtime interface client built in) for the buffered flavour.
LAMBDA_PYTHON_IMAGE = "public.ecr.aws/lambda/python:3.11"
# AWS Lambda Web Adapter: the version the LWA docs pin (see shared/specs/lwa-env.md).
LWA_VERSION = "1.0.0-rc1"
LWA_IMAGE = f"public.ecr.aws/awsguru/aws-lambda-adapter:{LWA_VERSION}"
# The buffered flavour's Lambda handler ([LAMBDA] owns the module).
LAMBDA_HANDLER = "agentdock.runtime.lambda_handler.handler"

CONTAINER_PORT = 8080
HEALTH_PATH = "/health"
NON_ROOT_UID = 10001

# Context layout, shared by every flavour and by the local target.
AGENT_DIR = "agent"
SPEC_FILE = f"{AGENT_DIR}/agentdock.spec.json"
ENTRY_MODULE = "entry"
ENTRY_APP = f"{ENTRY_MODULE}:app"
MANIFEST_FILE = "agentdock-build.json"
REQUIREMENTS_FILE = "requirements.txt"
WHEELS_DIR = "wheels"


class InvokeMode(StrEnum):
    """Lambda response mode. The value is the Function URL's ``InvokeMode``; ``lwa_env`` is what
    ``AWS_LWA_INVOKE_MODE`` must say. LWA silently falls back to buffered on a misspelt value, so the
    Dockerfile and the Lambda target both take it from here and the target checks the URL against it."""

    BUFFERED = "BUFFERED"
    RESPONSE_STREAM = "RESPONSE_STREAM"

    @property
    def lwa_env(self) -> str:
        return self.value.lower()


def invoke_mode_for(flavour: str) -> InvokeMode | None:
    """The Lambda invoke mode a flavour's image expects (None for non-Lambda flavours)."""
    if flavour == LAMBDA_STREAM:
        return InvokeMode.RESPONSE_STREAM
    if flavour == LAMBDA_BUFFERED:
        return InvokeMode.BUFFERED
    return None


def flavour_for(target: str, spec: DockSpec) -> str:
    """The flavour a target ships for this spec. Lambda streams (LWA + uvicorn) when the Dockfile
    exposes SSE; otherwise it is buffered (Mangum on the Lambda base image): function URLs carry no
    WebSockets, so ``expose.streaming: websocket`` falls back to buffered on Lambda."""
    if target == "lambda":
        return LAMBDA_STREAM if spec.expose.streaming == "sse" else LAMBDA_BUFFERED
    known = entry(target)
    if known is not None:
        return known.flavours[0]
    if target in FLAVOURS:
        return target
    raise BuildError(
        "--target",
        f"no build flavour for target {target!r}",
        hint=f"use one of: {', '.join(TARGET_NAMES)} (flavours: {', '.join(FLAVOURS)})",
    )


def serve_argv(*, host: str, port: int | str) -> list[str]:
    """How every uvicorn flavour starts the function (after ``python``): the Dockerfile CMD and
    the local target's process use this same line, so local runs what the image runs."""
    return ["-m", "uvicorn", ENTRY_APP, "--host", host, "--port", str(port), "--no-server-header"]
