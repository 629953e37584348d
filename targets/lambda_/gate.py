"""Health gates: a new version answers ``GET /health`` before the live alias moves to it.

* ``url``: the version is reached through a qualified route, the ``staging`` alias and its
  IAM-only function URL; the request is SigV4-signed with the deployer's credentials, so the
  staging route is never public. ``/health`` must answer 200 (and, when it reports a version
  number, this deploy's number), within a bounded time.
* ``preflight``: the very build context runs on this machine (``agentdock.targets.local.preflight``)
  and must answer ``/health`` and ``/schema`` before any cloud change. This also stands in where
  the cloud cannot run the function: moto and other emulators (chosen by default there).
* ``none``: no gate; it must be asked for and is written to the audit log.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentdock.errors import DeployError, HealthGateFailed

GATES = ("url", "preflight", "none")
Probe = Callable[[str, dict[str, str]], tuple[int, bytes]]
Preflight = Callable[..., Any]


def choose_gate(requested: str | None, *, endpoint_override: bool) -> str:
    """The gate to run: as asked, else ``url`` on AWS and ``preflight`` against an emulator."""
    if requested in (None, "", "auto"):
        return "preflight" if endpoint_override else "url"
    if requested not in GATES:
        raise DeployError(
            "--health-gate", f"unknown health gate {requested!r}", hint="use one of: " + ", ".join(GATES)
        )
    return requested


def http_get(url: str, headers: dict[str, str], timeout_s: float = 10.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - https URL from AWS
            return int(response.status), response.read(65536)
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(65536)


def signed_headers(url: str, region: str, credentials: Any) -> dict[str, str]:
    """SigV4 headers for an IAM-auth function URL (service ``lambda``)."""
    if credentials is None:
        return {}
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "lambda", region).add_auth(request)
    return dict(request.headers.items())


def reported_version(body: bytes) -> str | None:
    """The version number ``/health`` reports, when it reports one as a number."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("version")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return str(value)
    return None


def url_gate(
    base_url: str,
    version: int,
    *,
    region: str,
    credentials: Any,
    probe: Probe | None = None,
    timeout_s: float = 120.0,
    interval_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll ``GET <url>/health`` until it answers 200 for ``version``; bounded by ``timeout_s``."""
    probe = probe or http_get
    health = base_url.rstrip("/") + "/health"
    deadline = clock() + timeout_s
    attempts, last = 0, "no answer"
    while True:
        attempts += 1
        try:
            status, body = probe(health, signed_headers(health, region, credentials))
        except Exception as exc:  # connection refused, TLS, timeout: the version is not up yet
            last = f"{type(exc).__name__}: {exc}"
        else:
            seen = reported_version(body)
            if status == 200 and seen in (None, str(version)):
                return {"gate": "url", "url": health, "status": status, "attempts": attempts}
            last = (
                f"HTTP {status}" if status != 200 else f"/health reports version {seen}, expected {version}"
            )
        if clock() + interval_s > deadline:
            raise HealthGateFailed(
                health,
                f"version {version} did not become healthy in {timeout_s:.0f}s ({attempts} tries; last: {last})",
                hint="see the function's CloudWatch logs; live stays on the previous version",
            )
        sleep(interval_s)


def preflight_gate(
    context_dir: str, *, preflight: Preflight | None = None, timeout_s: float = 30.0
) -> dict[str, Any]:
    """Run the build context locally and check ``/health`` + ``/schema`` (raises HealthGateFailed)."""
    if preflight is None:
        try:
            from agentdock.targets.local import preflight as local_preflight
        except ImportError as exc:
            raise HealthGateFailed(
                "--health-gate preflight",
                f"the local preflight is not available ({exc})",
                hint="install agentdock with the runtime extra, or use --health-gate url",
            ) from exc
        preflight = local_preflight
    result = preflight(Path(context_dir), timeout_s=timeout_s)
    return {"gate": "preflight", "result": result if isinstance(result, dict) else {}}
