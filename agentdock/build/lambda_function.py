"""What a Lambda function needs from its Dockfile beyond the image: the function URL's CORS and how
the metadata store rule (``function_store``) names it. One source for the CLI's Lambda target and
the CDK ``AgentFunction`` (the URL's invoke mode comes from ``flavours``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from agentdock.build.function_store import StoreReader
from agentdock.cors import ALLOW_HEADERS, EXPOSE_HEADERS

if TYPE_CHECKING:
    from agentdock.spec.models import DockSpec

CORS_MAX_AGE_S = 600
_MAX_LISTED_METHODS = 6  # the API caps AllowMethods at 6 entries: more means "*"


def cors_config(spec: DockSpec) -> dict[str, Any] | None:
    """Function URL CORS (the Lambda API's shape) from ``expose.cors``; None when no origin is allowed."""
    cors = spec.expose.cors
    if cors is None or not cors.origins:
        return None
    methods = sorted({m.upper() for m in cors.methods}) or ["GET", "POST"]
    return {
        "AllowOrigins": list(cors.origins),
        "AllowMethods": ["*"] if "*" in methods or len(methods) > _MAX_LISTED_METHODS else methods,
        "AllowHeaders": list(ALLOW_HEADERS),
        "ExposeHeaders": list(EXPOSE_HEADERS),
        "MaxAge": CORS_MAX_AGE_S,
    }


LAMBDA_STORE = StoreReader(
    noun="function",
    lands_in="the function's environment",
    example="dynamodb://TABLE?region=...",
    password_hint="use dynamodb://TABLE (IAM auth) or a passwordless URL; keep secrets in deploy.secrets",
    no_store_note="; API keys then come from AGENTDOCK_BOOTSTRAP_KEY_HASH only",
)
