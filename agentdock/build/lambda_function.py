"""What a Lambda function needs from its Dockfile beyond the image: the function URL's CORS and the
metadata store it reads. One source for the CLI's Lambda target and the CDK ``AgentFunction``
(the URL's invoke mode comes from ``flavours``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentdock.cors import ALLOW_HEADERS, EXPOSE_HEADERS
from agentdock.errors import DeployError

if TYPE_CHECKING:
    from agentdock.spec.models import DockSpec

CORS_MAX_AGE_S = 600
_LOCAL_STORE_SCHEMES = ("sqlite", "memory", "file", "")
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


def function_store_url(dockfile_store: str | None, target_store: str | None) -> tuple[str | None, str | None]:
    """The store URL the function reads: the Dockfile's ``deploy.store``, else the deploy's own store
    when AWS can reach it. A URL carrying a password is refused (a secret value, not a reference)."""
    url = dockfile_store or target_store
    if not url:
        return (
            None,
            "the function gets no metadata store: set deploy.store (e.g. dynamodb://TABLE?region=...)",
        )
    parts = urlsplit(url)
    if parts.password:
        raise DeployError(
            "deploy.store",
            "the store URL carries a password: it would land in the function's environment",
            hint="use dynamodb://TABLE (IAM auth) or a passwordless URL; keep secrets in deploy.secrets",
        )
    if parts.scheme in _LOCAL_STORE_SCHEMES:
        if dockfile_store:
            raise DeployError(
                "deploy.store",
                f"{parts.scheme or 'a local path'} store is local to this machine; the function cannot reach it",
                hint="set deploy.store: dynamodb://agentdock-meta?region=eu-west-1",
            )
        return None, (
            f"the function gets no metadata store ({parts.scheme}:// is local to this machine): "
            "API keys then come from AGENTDOCK_BOOTSTRAP_KEY_HASH only; set deploy.store: dynamodb://TABLE"
        )
    return url, None
