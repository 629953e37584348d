"""Authorization: may this principal use this route? Implements ``runtime.stages.Authorizer``.

Roles map to permissions (``auth.roles``, or the defaults admin / developer / viewer of
``spec.models.DEFAULT_ROLES``); the authenticator resolves them into ``Principal.permissions``
once per request. Each route names the one permission it needs (the runtime's route table),
and a refusal names both the role and the permission, so the fix is obvious.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentdock.errors import PermissionDenied
from agentdock.stages import Principal


class RoleAuthorizer:
    def __init__(self, roles: Mapping[str, Sequence[str]]) -> None:
        self.roles = {role: frozenset(perms) for role, perms in roles.items()}

    def authorize(self, principal: Principal, permission: str) -> None:
        if permission in principal.permissions:
            return
        known = "" if principal.role in self.roles or principal.kind == "anonymous" else " (role not defined)"
        raise PermissionDenied(
            f"role '{principal.role}'{known} does not have permission '{permission}'", path="auth.roles"
        )
