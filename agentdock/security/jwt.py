"""HS256 bearer tokens (``auth.mode: jwt``): verification and minting.

Verification pins the algorithm list to ``["HS256"]``, so ``alg: none`` and algorithm
confusion (an RS256 header verified with the HMAC secret as "public key") are refused before
any signature math. Required claims: ``exp``, ``iat``, ``sub``, ``aud`` (= the agent name)
and ``role``; ``nbf`` is honoured when present. Clock skew: ``LEEWAY_S`` = 10 s on
``exp``/``iat``/``nbf``. An expired token (valid signature) is 498 ``TokenExpired``; anything
else wrong is 401 ``AuthenticationError`` with the reason.

Secrets shorter than 32 bytes work (the Dockfile minimum is 16 chars) but PyJWT warns
(``InsecureKeyLengthWarning``) once per process: use 32+ random bytes.

PyJWT is imported on first use, not at start-up: it loads ``cryptography`` (~40 ms of CPU),
which a function answering its readiness probe or API-key requests never needs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from agentdock.errors import AuthConfigError, TokenExpired
from agentdock.security.challenge import BEARER_CHALLENGE, unauthorized
from agentdock.spec.models import DockSpec

ALGORITHMS = ("HS256",)
LEEWAY_S = 10
MAX_TOKEN_CHARS = 8192  # refuse absurd headers before decoding them
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud")


def decode(
    token: str,
    key: Any,
    *,
    algorithms: Sequence[str],
    audience: str,
    issuer: str | None = None,
) -> dict[str, Any]:
    """Verify signature and claims; map every failure to 401 (or 498 when only expired)."""
    if len(token) > MAX_TOKEN_CHARS:
        raise unauthorized("invalid token: too long")
    import jwt as pyjwt  # lazy: see the module docstring

    try:
        claims: dict[str, Any] = pyjwt.decode(
            token, key, algorithms=algorithms, audience=audience, issuer=issuer, leeway=LEEWAY_S
        )
    except pyjwt.ExpiredSignatureError:
        raise TokenExpired(
            "token expired", headers={"WWW-Authenticate": BEARER_CHALLENGE + ', error_description="expired"'}
        ) from None
    except pyjwt.PyJWTError as exc:
        raise unauthorized(f"invalid token: {str(exc)[:160]}") from None
    # Checked here rather than with PyJWT's options={"require": ...}, which costs a per-call
    # options merge (~15 us); exp/iat/nbf/aud/iss values were validated by decode when present.
    for claim in REQUIRED_CLAIMS:
        if claims.get(claim) is None:
            raise unauthorized(f'invalid token: Token is missing the "{claim}" claim')
    if issuer is not None and claims.get("iss") is None:
        raise unauthorized('invalid token: Token is missing the "iss" claim')
    for claim in ("exp", "iat", "nbf"):
        # PyJWT converts "exp": "9999999999" with int(): a string is not a NumericDate (RFC 7519)
        value = claims.get(claim)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise unauthorized(f"invalid token: the {claim!r} claim must be a number (NumericDate)")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise unauthorized("invalid token: empty 'sub' claim")
    return claims


class HS256Verifier:
    """Bearer verifier for ``auth.mode: jwt``."""

    kind = "jwt"

    def __init__(self, secret: str, *, audience: str) -> None:
        self._secret = secret
        self.audience = audience

    async def verify(self, token: str) -> dict[str, Any]:
        return decode(token, self._secret, algorithms=ALGORITHMS, audience=self.audience)


def jwt_secret(spec: DockSpec) -> str:
    """The resolved HS256 secret, refusing a missing one or a ``${VAR}`` left unresolved
    (which would make the literal reference text a public signing key)."""
    secret = spec.auth.jwt.secret_key if spec.auth.jwt else None
    if not secret:
        raise AuthConfigError(
            "auth.jwt.secret_key", "no JWT secret is set", hint="add auth.jwt.secret_key: ${JWT_SECRET}"
        )
    if "${" in secret:
        raise AuthConfigError(
            "auth.jwt.secret_key", "the secret is an unresolved ${VAR} reference", hint="set the variable"
        )
    return secret


def issue_token(spec: DockSpec, *, sub: str, role: str, ttl_s: int, secret: str | None = None) -> str:
    """Mint an HS256 token the agent of ``spec`` accepts (tests, the ``token issue`` command)."""
    roles = spec.roles()
    if role not in roles:
        raise AuthConfigError(
            "auth.roles", f"role '{role}' is not defined (roles: {', '.join(sorted(roles))})"
        )
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    now = int(time.time())
    claims = {
        "sub": sub,
        "role": role,
        "aud": spec.agent.name,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    import jwt as pyjwt  # lazy: see the module docstring

    return pyjwt.encode(claims, secret or jwt_secret(spec), algorithm="HS256")
