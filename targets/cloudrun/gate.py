"""The health gate: ``GET <revision tag URL>/health`` must answer 200 before ``live`` moves.

The tag URL (``https://v3---svc-xyz.a.run.app``) reaches exactly the new revision while it takes
no traffic. A service that is not public needs an ID token whose audience is that URL; it is
minted from Application Default Credentials when it can be (a service account, the metadata
server), and not at all against an emulator endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from agentdock.build.flavours import HEALTH_PATH

Probe = Callable[[str, dict[str, str]], int]  # (url, headers) -> HTTP status (0: no answer)
GATES = ("auto", "url", "none")


def http_probe(url: str, headers: dict[str, str]) -> int:
    import httpx

    try:
        return httpx.get(url, headers=headers, timeout=5.0).status_code
    except httpx.HTTPError:
        return 0


def id_token_headers(audience: str) -> dict[str, str]:
    """An ``Authorization`` header for a private service, or none when no ID token can be minted
    (then a private service answers 403 and the gate says how to fix it)."""
    try:
        import google.auth.transport.requests
        import google.oauth2.id_token

        token = google.oauth2.id_token.fetch_id_token(google.auth.transport.requests.Request(), audience)
    except Exception:  # user credentials cannot mint ID tokens: the gate reports the 403
        return {}
    return {"authorization": f"Bearer {token}"}


def wait_healthy(
    base_url: str,
    *,
    timeout_s: float,
    headers: dict[str, str] | None = None,
    probe: Probe = http_probe,
    interval_s: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, str]:
    """(passed, what was seen). Polls until 200 or ``timeout_s``; a 4xx other than 404/429 stops
    at once (auth or routing, which waiting does not fix)."""
    url = base_url.rstrip("/") + HEALTH_PATH
    deadline = time.monotonic() + timeout_s
    status = 0
    while True:
        status = probe(url, headers or {})
        if status == 200:
            return True, f"GET {url} -> 200"
        if status in (401, 403):
            return False, f"GET {url} -> {status} (the gate could not authenticate to a private service)"
        if time.monotonic() >= deadline:
            return False, f"GET {url} -> {status or 'no answer'} for {timeout_s:g} s"
        sleep(interval_s)
