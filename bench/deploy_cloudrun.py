"""Cloud Run target wall times against the Cloud Run Admin API v2 stand-in on 127.0.0.1, through the
real ``google-cloud-run`` client (REST over http), image build excluded.

    python bench/deploy_cloudrun.py [--runs 5] [--json out.json] [--md out.md]

Per run, with a fresh agent and a fresh target and client (as in a CLI process): a first deploy
(secret checks, validate_only write, service create + operation, IAM read, health gate on the tag
URL over HTTP, traffic update), a second deploy (new image: a new revision, gate, traffic) and a
rollback (one traffic update to the recorded revision + the store). Deploys are ``plan()`` +
``apply()``; the store is SQLite on disk; the stand-in validates every body against run.v2.json,
so its cost is inside the numbers (a real API adds network and revision start-up time).

Targets: deploy <= 3 s, rollback <= 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "cloudrun")]  # bench.*, and the stand-in (with the tests)

PROJECT, REGION = "bench-project", "europe-west1"
IMAGE = "europe-west1-docker.pkg.dev/bench-project/agents/bench@sha256:"


def spec_for(name: str) -> Any:
    from agentdock.spec.models import DockSpec

    return DockSpec.model_validate(
        {
            "version": "1.0",
            "agent": {"name": name, "entrypoint": "agent:build", "framework": "langgraph"},
            "model": {"provider": "openai", "name": "gpt-4o-mini"},
            "io_schema": {"input": {"type": "object"}, "output": {"type": "object"}},
            "auth": {"mode": "jwt", "jwt": {"secret_key": "${JWT_SECRET}"}},
            "deploy": {
                "secrets": {"JWT_SECRET": "gcp-sm://jwt-signing"},
                "cloudrun": {"project": PROJECT, "region": REGION, "max_instances": 3},
            },
        }
    )


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def one_run(store: Any, endpoint: str, root: Path) -> dict[str, float]:
    from agentdock.targets.cloudrun import CloudRunTarget

    from agentdock.artifact import Artifact
    from agentdock.build.flavours import SPEC_FILE

    name = f"bench_{uuid.uuid4().hex[:8]}"
    spec = spec_for(name)
    frozen = root / name / SPEC_FILE  # the build context's frozen spec: where the ${VAR} references are
    frozen.parent.mkdir(parents=True)
    frozen.write_text(json.dumps(spec.dump()), encoding="utf-8")

    def deploy(i: int) -> Any:
        target = CloudRunTarget(store=store, endpoint_url=endpoint, actor="bench")  # fresh client
        artifact = Artifact(str(root / name), f"sha256:{name}-{i}", None, "cloudrun")
        return target.apply(target.plan(spec, artifact, image_uri=IMAGE + f"{i:x}" * 64))

    first, result = timed(lambda: deploy(1))
    assert result.status == "live", result
    second, result = timed(lambda: deploy(2))
    assert result.version == 2 and result.status == "live", result
    target = CloudRunTarget(store=store, endpoint_url=endpoint, actor="bench")
    back, result = timed(lambda: target.rollback(name))
    assert result.version == 1, result
    return {"first_deploy": first, "deploy": second, "rollback": back}


def table(rows: list[dict[str, Any]], runs: int) -> str:
    """deploy_lambda's table (same rows, same targets) under this benchmark's title."""
    from bench.deploy_lambda import markdown

    title = f"Cloud Run target vs the run.v2 stand-in on 127.0.0.1 ({runs} runs, image build excluded)"
    return "\n".join([title, *markdown(rows, runs).splitlines()[1:]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repeats (fresh agent each)")
    parser.add_argument("--json", dest="json_out", help="write the results as JSON to this file")
    parser.add_argument("--md", dest="md_out", help="write the markdown table to this file")
    args = parser.parse_args()
    from crstandin import CloudRunStandIn

    from agentdock.store import open_store

    with CloudRunStandIn() as api, tempfile.TemporaryDirectory(prefix="agentdock-bench-") as tmp:
        api.add_secret(PROJECT, "jwt-signing")
        store = open_store(f"sqlite:///{Path(tmp) / 'agentdock.db'}", auto_init=True)
        samples = [one_run(store, api.endpoint, Path(tmp)) for _ in range(args.runs)]
        store.close()
        invalid = api.invalid_requests()
    if invalid:
        print(f"{len(invalid)} request(s) did not validate against run.v2.json", file=sys.stderr)
        return 1
    from bench.deploy_lambda import summarize

    rows = summarize(samples, None)  # cold first deploy in its own row, then the warm ones
    text = table(rows, args.runs)
    print(text)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump({"python": sys.version.split()[0], "runs": args.runs, "results": rows}, fh, indent=2)
    if args.md_out:
        Path(args.md_out).write_text(text + "\n", encoding="utf-8")
    return 0 if all(r["ok"] for r in rows if r["counts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
