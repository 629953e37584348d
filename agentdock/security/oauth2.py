"""OAuth2 bearer tokens (``auth.mode: oauth2``): RS256/ES256 JWTs verified against the
issuer's JWKS.

Keys come from ``auth.oauth2.jwks_url`` through ``jwt.PyJWKClient`` (which refuses non-HTTP
schemes and redirects) and are cached by ``kid`` for ``lifespan_s`` = 300 s. A token whose
``kid`` is unknown triggers ONE refetch (the issuer rotated its keys), at most once per
``refetch_cooldown_s`` = 5 s so that tokens with made-up kids cannot hammer the issuer. When a
refetch fails the previous keys keep working; with no keys at all the answer is 503.

Fetching runs in a worker thread: the event loop never waits on the issuer. The cached path
is a dict lookup. Algorithms are pinned to RS256 and ES256, and each JWK is bound to its own
algorithm (PyJWK), so an HS256 token or an ``oct`` key in the set is refused. ``iss`` must
equal ``auth.oauth2.issuer`` and ``aud`` must equal ``auth.oauth2.audience`` (default: the
agent name).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import jwt as pyjwt

from agentdock.errors import NotReady
from agentdock.security.challenge import unauthorized
from agentdock.security.jwt import decode

ALGORITHMS = ("RS256", "ES256")

logger = logging.getLogger("agentdock.security")


class JWKSCache:
    """``kid`` -> signing key of one issuer, fetched on demand; see the module docstring."""

    def __init__(
        self, url: str, *, lifespan_s: float = 300.0, refetch_cooldown_s: float = 5.0, timeout_s: float = 5.0
    ) -> None:
        # cache_jwk_set=False: this class is the cache; the client only fetches and parses.
        self._client = pyjwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout_s)
        self.url = url
        self.lifespan_s = lifespan_s
        self.refetch_cooldown_s = refetch_cooldown_s
        self._keys: dict[str, pyjwt.PyJWK] = {}
        self._expires_at = 0.0
        self._next_fetch_at = 0.0
        self._last_error: str | None = None
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self.fetches = 0

    async def get(self, kid: str) -> pyjwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None and time.monotonic() < self._expires_at:
            return key
        async with self._loop_lock():  # one fetch at a time, whoever else was waiting reuses it
            key = self._keys.get(kid)
            now = time.monotonic()
            if key is not None and now < self._expires_at:
                return key
            if now >= self._next_fetch_at:
                await self._refresh()
                key = self._keys.get(kid)
        if key is not None:
            return key  # possibly stale: better than locking everyone out while the issuer is down
        if not self._keys and self._last_error is not None:
            raise NotReady(f"the issuer's signing keys are unavailable ({self._last_error})")
        raise unauthorized(f"invalid token: no signing key with kid '{kid[:64]}'")

    def _loop_lock(self) -> asyncio.Lock:
        """A lock of the running loop (an asyncio.Lock must not be shared between loops)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    async def _refresh(self) -> None:
        self._next_fetch_at = time.monotonic() + self.refetch_cooldown_s
        self.fetches += 1
        try:
            jwk_set = await asyncio.to_thread(self._client.get_jwk_set, True)
        except pyjwt.PyJWTError as exc:
            self._last_error = type(exc).__name__
            logger.warning("JWKS fetch from %s failed: %s", self.url, exc)
            return
        self._keys = {k.key_id: k for k in jwk_set.keys if k.key_id and k.public_key_use in ("sig", None)}
        self._expires_at = time.monotonic() + self.lifespan_s
        self._last_error = None


class OAuth2Verifier:
    """Bearer verifier for ``auth.mode: oauth2``."""

    kind = "oauth2"

    def __init__(self, *, keys: JWKSCache, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience

    async def verify(self, token: str) -> dict[str, Any]:
        try:
            header = pyjwt.get_unverified_header(token)
        except pyjwt.PyJWTError as exc:
            raise unauthorized(f"invalid token: {exc}") from None
        # Refuse early what can never verify, without touching the key cache or the issuer.
        if header.get("alg") not in ALGORITHMS:
            raise unauthorized("invalid token: The specified alg value is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise unauthorized("invalid token: no 'kid' header")
        key = await self.keys.get(kid)
        return decode(token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer)
