"""The seams of the request pipeline: auth -> rate limit -> policy pre -> adapter (tool hook)
-> policy post -> output validation -> telemetry.

The runtime calls these protocols; ``agentdock.security`` and ``agentdock.policy`` implement
them. Routes never call security code directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import HTTPConnection

ADMIN_PERMISSION = "key_manage"


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``id`` is the key id or JWT ``sub``; ``kind`` is jwt | oauth2 | api_key | anonymous."""

    id: str
    role: str
    permissions: frozenset[str]
    kind: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        """Recorded on the threads and runs this principal starts: ``<kind>:<id>``."""
        return f"{self.kind}:{self.id}"

    @property
    def sees_all(self) -> bool:
        """Admins (``key_manage``) read and manage every principal's threads and runs."""
        return ADMIN_PERMISSION in self.permissions


class Authenticator(Protocol):
    async def authenticate(self, conn: HTTPConnection) -> Principal:
        """Return the caller or raise an errors.HTTPError (401, 498, 499)."""


class Authorizer(Protocol):
    def authorize(self, principal: Principal, permission: str) -> None:
        """Raise errors.PermissionDenied naming the role and the missing permission."""


@dataclass(frozen=True)
class RateDecision:
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_s),
        }


class RateLimiter(Protocol):
    async def hit(self, principal: Principal) -> RateDecision | None:
        """Count one request; None when the role has no limit; raise errors.RateLimited when over."""


class TokenFilter(Protocol):
    """Stream-side policy: redact patterns split across chunks by holding back a bounded tail."""

    def feed(self, text: str) -> str: ...

    def flush(self) -> str: ...

    @property
    def truncated(self) -> bool: ...


@dataclass(frozen=True)
class PostResult:
    output: dict[str, Any]
    truncated: bool = False
    redactions: int = 0


class PolicyEngine(Protocol):
    def pre(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Redact string leaves; raise errors.PolicyViolationError on prompt injection when blocking."""

    async def on_tool_start(self, name: str, args: dict[str, Any]) -> None:
        """Raise errors.ToolDenied before a disallowed tool body runs."""

    def post(self, output: dict[str, Any]) -> PostResult:
        """Redact output leaves, enforce max_output_chars (truncate or 413), halt_on_violation (403)."""

    def token_filter(self) -> TokenFilter: ...
