"""How the preflight reaches the function, per flavour:

* ``HttpTransport``: uvicorn flavours. For Lambda streaming this is the Lambda Web Adapter's
  side of the contract: wait until ``AWS_LWA_READINESS_CHECK_PATH`` on ``AWS_LWA_PORT`` answers
  a status in ``AWS_LWA_READINESS_CHECK_HEALTHY_STATUS`` (default 100-499), then forward
  requests to 127.0.0.1:port (response streaming passes chunks through as they come).
* ``LambdaTransport``: buffered Lambda. A driver process imports the image's handler (the CMD)
  and is fed real Lambda function URL events (payload 2.0) on stdin, one per line, as the
  Lambda runtime would call it; it answers with the handler's result.
"""

from __future__ import annotations

import base64
import copy
import http.client
import json
import subprocess
import time
import uuid
from importlib import resources
from typing import Any, Protocol

Response = tuple[int, dict[str, str], bytes]


class Transport(Protocol):
    """How the checks reach the started function, whatever the flavour."""

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None = None,
        timeout_s: float = 30.0,
    ) -> Response: ...


MARK = b"\x1eagentdock-preflight "

# The driver runs inside the sandbox with the image's Python; it only needs the stdlib + handler.
DRIVER = r"""
import importlib, json, sys, time
MARK = "\x1eagentdock-preflight "
class Context:
    function_name = "preflight"; function_version = "$LATEST"; memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:preflight"
    log_group_name = "/aws/lambda/preflight"; log_stream_name = "preflight"
    def __init__(self, rid): self.aws_request_id = rid; self._end = time.time() + 60
    def get_remaining_time_in_millis(self): return int((self._end - time.time()) * 1000)
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
sys.stdout.write(MARK + json.dumps({"ready": True}) + "\n"); sys.stdout.flush()
for line in sys.stdin:
    event = json.loads(line)
    try:
        out = handler(event, Context(event["requestContext"]["requestId"]))
    except Exception as exc:
        out = {"error": type(exc).__name__ + ": " + str(exc)}
    sys.stdout.write(MARK + json.dumps(out) + "\n"); sys.stdout.flush()
"""


def parse_statuses(spec: str) -> set[int]:
    """LWA's healthy-status list: ``200-399`` / ``200,201,301-399`` (bad entries skipped)."""
    codes: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            codes.update(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            continue
    return codes


class HttpTransport:
    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None = None,
        timeout_s: float = 30.0,
    ) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def wait_ready(self, path: str, healthy: set[int], alive: Any, timeout_s: float) -> float:
        """Seconds until ``path`` answered a healthy status (LWA polls every 10 ms)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if not alive():
                raise RuntimeError("the process exited before it was ready")
            try:
                status, _, _ = self.request("GET", path, {}, timeout_s=2)
                if status in healthy:
                    return time.monotonic() - t0
            except OSError:
                pass
            time.sleep(0.01)
        raise TimeoutError(f"no healthy answer from {path} within {timeout_s:.0f}s")


def function_url_event(method: str, path: str, headers: dict[str, str], body: bytes | None) -> dict[str, Any]:
    """A Lambda function URL event (payload 2.0), from the recorded AWS sample."""
    text = (resources.files("agentdock.preflight") / "function-url-event.json").read_text(encoding="utf-8")
    event: dict[str, Any] = copy.deepcopy(json.loads(text))
    raw_path, _, query = path.partition("?")
    request_id = str(uuid.uuid4())
    event["rawPath"], event["rawQueryString"] = raw_path, query
    event["headers"] = {**event["headers"], **{k.lower(): v for k, v in headers.items()}}
    event["requestContext"]["http"].update({"method": method, "path": raw_path})
    event["requestContext"]["requestId"] = request_id
    event["requestContext"]["timeEpoch"] = int(time.time() * 1000)
    if body is not None:
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    return event


class LambdaTransport:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.output: list[bytes] = []  # the function's own stdout (its log lines)

    def _read(self, timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the handler process exited")
            if line.startswith(MARK):
                return dict(json.loads(line[len(MARK) :]))
            self.output.append(line)
        raise TimeoutError("no answer from the handler")

    def wait_ready(self, timeout_s: float) -> float:
        t0 = time.monotonic()
        self._read(timeout_s)
        return time.monotonic() - t0

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None = None,
        timeout_s: float = 30.0,
    ) -> Response:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(function_url_event(method, path, headers, body)) + "\n").encode())
        self.proc.stdin.flush()
        out = self._read(timeout_s)
        if "error" in out and "statusCode" not in out:
            raise RuntimeError(f"the handler raised {out['error']}")
        data = out.get("body") or ""
        raw = base64.b64decode(data) if out.get("isBase64Encoded") else str(data).encode()
        return (
            int(out.get("statusCode", 0)),
            {k.lower(): str(v) for k, v in (out.get("headers") or {}).items()},
            raw,
        )
