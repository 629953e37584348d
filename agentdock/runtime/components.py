"""The pluggable stages of the request pipeline, gathered in one value.

``Components`` holds one implementation of each protocol in ``runtime/stages.py``. The app
takes them as a parameter, so security and policy plug in without routes knowing them, and a
test passes its own doubles. ``from_spec`` builds the real ones from the Dockfile.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentdock.spec.models import DockSpec
from agentdock.stages import Authenticator, Authorizer, PolicyEngine, RateLimiter


@dataclass(frozen=True)
class Components:
    """auth -> authorize -> rate limit -> policy (pre, tool hook, post, token filter)."""

    authenticator: Authenticator
    authorizer: Authorizer
    rate_limiter: RateLimiter
    policy: PolicyEngine

    @classmethod
    def from_spec(cls, spec: DockSpec) -> Components:
        """The production stages: ``agentdock.security`` and ``agentdock.policy`` from the Dockfile.

        Imported here, not at module top, so the runtime's import graph stays a tree and a
        function image only pays for them when it builds an app.
        """
        from agentdock.policy import build_policy
        from agentdock.security import build_authenticator, build_authorizer, build_rate_limiter

        return cls(
            authenticator=build_authenticator(spec),
            authorizer=build_authorizer(spec),
            rate_limiter=build_rate_limiter(spec),
            policy=build_policy(spec),
        )
