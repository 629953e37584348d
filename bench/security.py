"""Micro-benchmarks of the security hot path, each against a baseline measured in the same run.

    python bench/security.py [--json out.json] [--md out.md] [--quick]

* policy pre/post on a ~4 KB JSON payload with 5 redact patterns (target <= 50 us per call);
  baseline: a plain ``re.sub`` loop over the same string leaves. Measured on a clean payload
  (the common case) and on one with secrets in it.
* stream filter: cost per token chunk.
* auth check with a cached API key (target <= 20 us); baseline: the bare hash + constant-time
  compare. HS256 JWT verification is shown for reference (baseline: ``jwt.decode`` alone).

Numbers are the median of several repeats, in microseconds of CPU time per call
(``time.process_time``): the benchmark machines are shared, and CPU time does not count the
time this process waited for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import random
import re
import statistics
import string
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt as pyjwt
from starlette.requests import HTTPConnection

from agentdock.policy import REPLACEMENT, Policy
from agentdock.policy.redaction import string_leaves
from agentdock.security.apikeys import generate_api_key, hash_api_key
from agentdock.security.authn import RequestAuthenticator
from agentdock.security.jwt import HS256Verifier
from agentdock.security.keys import InMemoryKeyResolver
from agentdock.store.base import APIKeyRecord

PATTERNS = [
    r"[\w.+-]{1,32}@[\w-]{1,32}\.[\w.-]{2,24}",  # e-mail
    r"\b\d{3}-\d{2}-\d{4}\b",  # US SSN
    r"\b(?:\d[ -]?){15}\d\b",  # card number
    r"sk-[A-Za-z0-9]{20,48}",  # API key
    r"AKIA[0-9A-Z]{16}",  # AWS access key id
]
ROLES = {"developer": ("invoke",)}
AGENT = "bench-agent"
SECRET = "bench-secret-" + "x" * 32


def prose(size: int, seed: int) -> str:
    rng = random.Random(seed)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(400)]
    text, out = "", []
    while len(text) < size:
        out.append(rng.choice(words) + (". " if rng.random() < 0.08 else " "))
        text = "".join(out)
    return text[:size]


def payload(dirty: bool) -> dict[str, Any]:
    """~4 KB: a question, a short history and metadata, as string leaves."""
    parts = [prose(1600, 1), prose(1200, 2), prose(800, 3), prose(300, 4)]
    if dirty:
        parts[0] = parts[0][:600] + " mail jane.doe@example.com or 555-12-3456 " + parts[0][600:]
        parts[1] = (
            parts[1][:300] + " key sk-" + "A1b2C3d4" * 4 + " card 4111 1111 1111 1111 " + parts[1][300:]
        )
    return {
        "question": parts[0],
        "history": [{"role": "user", "content": parts[1]}, {"role": "assistant", "content": parts[2]}],
        "metadata": {"session": "abc123", "notes": parts[3], "turn": 3},
    }


def per_call(fn: Callable[[], object], *, repeats: int, number: int) -> float:
    """Median microseconds per call."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(number):
            fn()
        samples.append((time.process_time() - start) / number * 1e6)
    return statistics.median(samples)


def per_call_async(make: Callable[[], Any], *, repeats: int, number: int) -> float:
    async def run() -> float:
        await make()
        samples = []
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(number):
                await make()
            samples.append((time.process_time() - start) / number * 1e6)
        return statistics.median(samples)

    return asyncio.run(run())


def bench_policy(rows: list[dict[str, Any]], repeats: int, number: int) -> None:
    policy = Policy(redact_patterns=PATTERNS)
    compiled = [re.compile(p) for p in PATTERNS]

    def baseline(data: dict[str, Any]) -> Callable[[], object]:
        def run() -> object:
            out = []
            for leaf in string_leaves(data):
                for pattern in compiled:
                    leaf = pattern.sub(REPLACEMENT, leaf)
                out.append(leaf)
            return out

        return run

    for dirty in (False, True):
        data = payload(dirty)
        size = len(json.dumps(data))
        label = "with secrets" if dirty else "clean"
        base = per_call(baseline(data), repeats=repeats, number=number)
        pre = per_call(lambda d=data: policy.pre(d), repeats=repeats, number=number)  # type: ignore[misc]
        post = per_call(lambda d=data: policy.post(d), repeats=repeats, number=number)  # type: ignore[misc]
        rows.append(row(f"policy.pre, {size} B {label}, 5 patterns + injection rules", pre, base, 50.0))
        rows.append(row(f"policy.post, {size} B {label}, 5 patterns", post, base, 50.0))

    text = prose(4000, 9)
    tokens = [text[i : i + 4] for i in range(0, len(text), 4)]

    def stream() -> object:
        f = policy.token_filter()
        for token in tokens:
            f.feed(token)
        return f.flush()

    per_token = per_call(stream, repeats=repeats, number=max(1, number // 20)) / len(tokens)
    rows.append(row("stream filter, per 4-char token (hold 91 chars)", per_token, None, None))


def bench_auth(rows: list[dict[str, Any]], repeats: int, number: int) -> None:
    new = generate_api_key(pepper="")
    record = APIKeyRecord(new.key_id, AGENT, "developer", new.key_hash, datetime.now(UTC))
    auth = RequestAuthenticator(agent=AGENT, roles=ROLES, keys=InMemoryKeyResolver([record]), pepper="")
    conn = HTTPConnection({"type": "http", "headers": [(b"x-api-key", new.key.encode())]})
    key_us = per_call_async(lambda: auth.authenticate(conn), repeats=repeats, number=number * 5)
    base_us = per_call(
        lambda: hmac.compare_digest(hash_api_key(new.key, ""), record.key_hash),
        repeats=repeats,
        number=number * 5,
    )
    rows.append(row("auth, cached API key (x-api-key header -> Principal)", key_us, base_us, 20.0))

    verifier = HS256Verifier(SECRET, audience=AGENT)
    now = int(time.time())
    token = pyjwt.encode(
        {"sub": "u", "role": "developer", "aud": AGENT, "iat": now, "exp": now + 3600},
        SECRET,
        algorithm="HS256",
    )
    jwt_auth = RequestAuthenticator(agent=AGENT, roles=ROLES, bearer=verifier)
    jconn = HTTPConnection({"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]})
    jwt_us = per_call_async(lambda: jwt_auth.authenticate(jconn), repeats=repeats, number=number * 2)
    raw_us = per_call(
        lambda: pyjwt.decode(token, SECRET, algorithms=["HS256"], audience=AGENT),
        repeats=repeats,
        number=number * 2,
    )
    rows.append(row("auth, HS256 JWT (Authorization header -> Principal)", jwt_us, raw_us, None))


def row(name: str, value: float, baseline: float | None, target: float | None) -> dict[str, Any]:
    return {
        "benchmark": name,
        "us_per_call": round(value, 2),
        "baseline_us": None if baseline is None else round(baseline, 2),
        "target_us": target,
        "meets_target": None if target is None else value <= target,
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| benchmark | us/call | baseline us | target us | ok |", "|---|---:|---:|---:|:---:|"]
    for r in rows:
        ok = "" if r["meets_target"] is None else ("yes" if r["meets_target"] else "NO")
        base = "" if r["baseline_us"] is None else f"{r['baseline_us']:.2f}"
        target = "" if r["target_us"] is None else f"<= {r['target_us']:.0f}"
        lines.append(f"| {r['benchmark']} | {r['us_per_call']:.2f} | {base} | {target} | {ok} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", dest="json_out", help="write the results as JSON to this file")
    parser.add_argument("--md", dest="md_out", help="write the markdown table to this file")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (CI smoke run)")
    args = parser.parse_args(argv)
    repeats, number = (3, 50) if args.quick else (7, 400)
    rows: list[dict[str, Any]] = []
    bench_policy(rows, repeats, number)
    bench_auth(rows, repeats, number)
    table = markdown(rows)
    print(table)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump({"python": sys.version.split()[0], "results": rows}, fh, indent=2)
    if args.md_out:
        with open(args.md_out, "w", encoding="utf-8") as fh:
            fh.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
