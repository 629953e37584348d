"""A minimal HTTP/1.1 load generator on raw asyncio streams.

Request bytes are built once and responses parsed just enough (status, Content-Length or
the chunked terminator), so the client costs a few microseconds per request and the
numbers reflect the server. Keep-alive connections, a fixed request count shared by a
fixed number of workers: the run is bounded and stops by itself.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any


def build_request(method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    index = lower.find(b"content-length:")
    if index >= 0:
        end = lower.index(b"\r\n", index)
        return status, await reader.readexactly(int(lower[index + 15 : end]))
    body = await reader.readuntil(b"0\r\n\r\n")  # chunked: read to the terminating chunk
    return status, body


@dataclass
class LoadResult:
    requests: int
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "concurrency": self.concurrency,
            "req_per_s": round(self.requests / self.seconds, 1),
            "p50_ms": round(statistics.median(ordered), 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
            "errors": self.errors,
        }


async def run_load(port: int, request: bytes, *, requests: int, concurrency: int) -> LoadResult:
    """Send ``requests`` copies of ``request`` over ``concurrency`` keep-alive connections."""
    remaining = iter(range(requests))
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in remaining:
                started = time.perf_counter()
                writer.write(request)
                status, _ = await read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000.0)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(requests, concurrency, time.perf_counter() - started, latencies, errors)


async def first_token_ms(port: int, request: bytes, marker: bytes) -> float:
    """Send one streaming request on a fresh connection; ms until ``marker`` arrives."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.perf_counter()
        writer.write(request)
        seen = b""
        first: float | None = None
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            seen += chunk
            if first is None and marker in seen:
                first = (time.perf_counter() - started) * 1000.0
            if seen.endswith(b"0\r\n\r\n"):
                break
        if first is None:
            raise RuntimeError(f"no {marker!r} in the stream: {seen[:300]!r}")
        return first
    finally:
        writer.close()


async def wait_until_up(
    port: int, request: bytes, *, timeout_s: float = 60.0, poll_s: float = 0.005
) -> float:
    """Poll with ``request`` until a 200; returns the monotonic time of that response."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(poll_s)
            continue
        try:
            writer.write(request)
            status, _ = await read_response(reader)
            if status == 200:
                return time.monotonic()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
        await asyncio.sleep(poll_s)
    raise TimeoutError(f"nothing answered 200 on port {port} within {timeout_s}s")
