"""The Knative health gate: the new revision's own tag URL (``status.traffic[].url`` of ``v<n>``)
answers ``GET /health`` with 200, and with this deploy's version when it reports one, before
``live`` moves. ``none`` skips it (asked for explicitly, and audited)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from agentdock.build.flavours import HEALTH_PATH
from agentdock.errors import DeployError, HealthGateFailed

GATES = ("url", "none")
Probe = Callable[[str], tuple[int, bytes]]


def choose_gate(requested: str | None) -> str:
    if requested in (None, "", "auto"):
        return "url"
    if requested not in GATES:
        raise DeployError(
            "--health-gate",
            f"{requested!r} is not a Knative health gate",
            hint="use url (the revision's tag URL, default) or none",
        )
    return requested


def http_probe(url: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - the route's URL
            return int(response.status), response.read(65536)
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(65536)


def _version_in(body: bytes) -> str | None:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    value = data.get("version") if isinstance(data, dict) else None
    return str(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None


def url_gate(
    tag_url: str,
    version: int,
    *,
    probe: Probe | None = None,
    timeout_s: float = 60.0,
    interval_s: float = 0.5,
) -> dict[str, Any]:
    """Poll ``<tag_url>/health`` until 200 for ``version`` (bounded); HealthGateFailed otherwise."""
    probe = probe or http_probe
    url = tag_url.rstrip("/") + HEALTH_PATH
    deadline = time.monotonic() + timeout_s
    tries, last = 0, "no answer"
    while True:
        tries += 1
        try:
            status, body = probe(url)
            seen = _version_in(body)
            if status == 200 and seen in (None, str(version)):
                return {"gate": "url", "url": url, "status": status, "attempts": tries}
            last = f"HTTP {status}" if status != 200 else f"it reports version {seen}, expected {version}"
        except OSError as exc:  # refused, DNS, timeout: not up (or not reachable from here)
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() + interval_s > deadline:
            raise HealthGateFailed(
                url,
                f"version {version} did not answer healthy in {timeout_s:.0f}s ({tries} tries; last: {last})",
                hint="live stays where it was; check `kubectl logs` of the revision, or that this URL "
                "resolves from here (else --health-gate none)",
            )
        time.sleep(interval_s)
