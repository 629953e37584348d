"""Authentication: who is calling. Implements ``agentdock.stages.Authenticator``.

Credentials, checked in this order:

1. ``x-api-key: agd_<key_id>_<secret>`` when API keys are accepted (``auth.mode: api_key``, or
   ``auth.api_keys.enabled: true`` in any mode). The record is found through the
   ``KeyResolver`` by the public key id; the secret is checked by hash in constant time BEFORE
   anything else about the key is revealed. Statuses: malformed, unknown, wrong secret or a key
   of another agent -> 401 ``invalid api key``; revoked -> 499 ``KeyRevoked``; past
   ``expires_at`` or ``created_at + auth.api_keys.rotation_days`` -> 498 ``TokenExpired`` with
   detail ``api key expired``.
2. ``Authorization: Bearer <jwt>`` when the mode is ``jwt`` (HS256, ``security.jwt``) or
   ``oauth2`` (JWKS, ``security.oauth2``). The role comes from the ``role`` claim (for oauth2
   also the first entry of a ``roles`` list).
3. Nothing -> 401 ``missing credentials``.

A role the Dockfile does not define authenticates with no permissions, so every route then
answers 403 naming that role.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from agentdock.errors import AuthenticationError, KeyRevoked, TokenExpired
from agentdock.security.apikeys import parse_key_id, verify_api_key
from agentdock.security.challenge import BEARER_CHALLENGE, unauthorized
from agentdock.security.keys import KeyResolver, resolver_ready
from agentdock.settings import ENV_KEY_PEPPER
from agentdock.stages import Principal
from agentdock.store.base import APIKeyRecord


class BearerVerifier(Protocol):
    kind: str

    async def verify(self, token: str) -> dict[str, Any]:
        """Verified claims, or raise 401/498."""


class RequestAuthenticator:
    def __init__(
        self,
        *,
        agent: str,
        roles: Mapping[str, Sequence[str]],
        bearer: BearerVerifier | None = None,
        keys: KeyResolver | None = None,
        rotation_days: int | None = None,
        pepper: str | None = None,
    ) -> None:
        self.agent = agent
        self._permissions = {role: frozenset(perms) for role, perms in roles.items()}
        self.bearer = bearer
        self.keys = keys
        self._rotation = timedelta(days=rotation_days) if rotation_days else None
        self._pepper = pepper if pepper is not None else os.environ.get(ENV_KEY_PEPPER, "")
        self._challenge = {"WWW-Authenticate": BEARER_CHALLENGE} if bearer else {}

    async def ready(self) -> bool:
        """False while the API key store cannot answer (``/ready`` reports it)."""
        return self.keys is None or await resolver_ready(self.keys)

    async def authenticate(self, conn: HTTPConnection) -> Principal:
        headers = conn.headers
        api_key = headers.get("x-api-key")
        if api_key is not None:
            if self.keys is None:
                raise self._denied("API keys are not accepted here; send Authorization: Bearer <token>")
            return await self._from_api_key(api_key.strip())
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise self._denied("malformed Authorization header; expected 'Bearer <token>'")
            if token.startswith("agd_") and self.keys is not None:
                # an API key sent as a bearer token (Swagger UI's Authorize dialog, curl --oauth2-bearer)
                return await self._from_api_key(token)
            if self.bearer is None:
                raise self._denied("bearer tokens are not accepted here; send x-api-key")
            return self._from_claims(await self.bearer.verify(token), self.bearer.kind)
        raise self._denied("missing credentials: " + self._expected())

    def _expected(self) -> str:
        ways = []
        if self.bearer is not None:
            ways.append("Authorization: Bearer <token>")
        if self.keys is not None:
            ways.append("x-api-key")
        return "send " + " or ".join(ways)

    def _denied(self, cause: str) -> AuthenticationError:
        return AuthenticationError(cause, headers=dict(self._challenge))

    def _principal(self, id_: str, role: str, kind: str, claims: dict[str, Any]) -> Principal:
        return Principal(
            id=id_, role=role, permissions=self._permissions.get(role, frozenset()), kind=kind, claims=claims
        )

    def _from_claims(self, claims: dict[str, Any], kind: str) -> Principal:
        role = claims.get("role")
        if role is None and kind == "oauth2":
            roles = claims.get("roles")
            role = next((r for r in roles if isinstance(r, str)), None) if isinstance(roles, list) else None
        if not isinstance(role, str) or not role:
            raise unauthorized("invalid token: no 'role' claim")
        return self._principal(str(claims["sub"]), role, kind, claims)

    async def _from_api_key(self, key: str) -> Principal:
        assert self.keys is not None
        key_id = parse_key_id(key)
        if key_id is None:
            raise self._denied("malformed api key; expected agd_<key_id>_<secret>")
        record = await self.keys.resolve(key_id)
        # One answer for unknown, wrong secret and another agent's key: no oracle for key ids.
        if (
            record is None
            or not verify_api_key(key, record.key_hash, self._pepper)
            or record.agent != self.agent
        ):
            raise self._denied("invalid api key")
        if record.revoked_at is not None:
            raise KeyRevoked("api key revoked")
        expires = self._expiry(record)
        if expires is not None and datetime.now(UTC) >= expires:
            raise TokenExpired("api key expired")
        self.keys.note_use(key_id)
        return self._principal(key_id, record.role, "api_key", {})

    def _expiry(self, record: APIKeyRecord) -> datetime | None:
        ends = [record.expires_at] if record.expires_at is not None else []
        if self._rotation is not None:
            ends.append(record.created_at + self._rotation)
        ends = [e if e.tzinfo else e.replace(tzinfo=UTC) for e in ends]
        return min(ends) if ends else None
