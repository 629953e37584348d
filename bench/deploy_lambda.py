"""Lambda target wall times against a moto server on 127.0.0.1 (boto3 over HTTP), image build excluded.

    python bench/deploy_lambda.py [--runs 5] [--json out.json] [--md out.md] [--no-preflight]

Per run, with a fresh agent and a fresh target (so boto3 clients are created inside the timing,
as in a CLI process): a first deploy (ECR image given as CI would: role, function, version, alias,
URL, permissions), a second deploy (new image: update, publish, move the alias), and a rollback
(one alias move + the store). Deploys are ``plan()`` + ``apply()``; the store is SQLite on disk.

The health gate is ``none`` for the cloud-path numbers. With the real build context of
``examples/doc_summarizer`` and the real local preflight (what stands in for the URL gate when the
cloud is an emulator), the deploy is measured once more, preflight included: that row is
informational (it is dominated by starting the agent's process locally) and not in the exit code.

Targets: deploy <= 3 s, rollback <= 0.5 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

TARGETS_S = {"deploy": 3.0, "rollback": 0.5}
ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = "FROM python:3.11-slim\nENV AWS_LWA_INVOKE_MODE=response_stream\n"


def start_moto() -> Any:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ[key] = value
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    return server


def push_image(repository: str, tag: str) -> str:
    """A fake image in moto's ECR (manifest only): what CI would have pushed."""
    import boto3

    ecr = boto3.client("ecr")
    try:
        uri = ecr.create_repository(repositoryName=repository)["repository"]["repositoryUri"]
    except ecr.exceptions.RepositoryAlreadyExistsException:
        uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]["repositoryUri"]
    config = {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 1,
        "digest": "sha256:" + "0" * 64,
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {**config, "digest": "sha256:" + hashlib.sha256(f"{repository}{tag}".encode()).hexdigest()},
        "layers": [],
    }
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
    return f"{uri}:{tag}"


def fake_context(root: Path, label: str) -> Any:
    from agentdock.targets.base import Artifact

    folder = root / label
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    return Artifact(
        str(folder), "sha256:" + hashlib.sha256(label.encode()).hexdigest(), None, "lambda-stream"
    )


def spec_for(name: str) -> Any:
    from agentdock.spec.models import DockSpec

    return DockSpec.model_validate(
        {
            "version": "1.0",
            "agent": {"name": name, "entrypoint": "agent:build", "framework": "langgraph"},
            "model": {"provider": "openai", "name": "gpt-4o-mini"},
            "io_schema": {
                "input": {"type": "object", "properties": {}},
                "output": {"type": "object", "properties": {}},
            },
            "auth": {"mode": "api_key", "api_keys": {"enabled": True}},
            "expose": {
                "streaming": "sse",
                "cors": {"origins": ["https://app.example.com"], "methods": ["GET", "POST"]},
            },
            "deploy": {"lambda": {"reserved_concurrency": 5}},
        }
    )


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def one_run(store: Any, root: Path) -> dict[str, float]:
    from agentdock.targets.lambda_ import LambdaTarget

    name = f"bench-{uuid.uuid4().hex[:8]}"
    spec = spec_for(name)
    images = [push_image(f"agentdock/{name}", tag) for tag in ("v1", "v2")]
    contexts = [fake_context(root, f"{name}-{i}") for i in (1, 2)]
    target = LambdaTarget(store=store, actor="bench", builder=False)

    def deploy(i: int) -> Any:
        return target.apply(target.plan(spec, contexts[i], image_uri=images[i], health_gate="none"))

    first, r1 = timed(lambda: deploy(0))
    second, r2 = timed(lambda: deploy(1))
    back, r3 = timed(lambda: target.rollback(name))
    assert (r1.version, r2.version, r3.version) == (1, 2, 1), (r1, r2, r3)
    return {"first_deploy": first, "deploy": second, "rollback": back}


def preflight_run(store: Any, root: Path) -> float | None:
    """One deploy of the real doc_summarizer context with the real local preflight gate."""
    try:
        from agentdock.targets.lambda_ import LambdaTarget

        from agentdock.build import build_context, flavour_for
        from agentdock.spec import load_dockfile
    except ImportError:
        return None
    dockfile = ROOT / "examples" / "doc_summarizer" / "Dockfile.yaml"
    loaded = load_dockfile(dockfile, allow_unresolved=True)
    artifact = build_context(dockfile, flavour=flavour_for("lambda", loaded.spec), out_dir=root / "real-ctx")
    image = push_image(f"agentdock/{loaded.spec.dns_name}", "real")
    target = LambdaTarget(store=store, actor="bench", builder=False)
    elapsed, result = timed(lambda: target.apply(target.plan(loaded.spec, artifact, image_uri=image)))
    assert result.status == "live" and result.details["health_gate"] == "preflight"
    return elapsed


def summarize(samples: list[dict[str, float]], preflight: float | None) -> list[dict[str, Any]]:
    """The first run's first deploy is cold (botocore loads its models, moto builds its backends:
    what one CLI process pays once); it is its own row, the warm rows use the other runs."""
    warm = samples[1:] or samples
    series = {
        "first_deploy_cold_process": [samples[0]["first_deploy"]],
        "first_deploy": [s["first_deploy"] for s in warm],
        "deploy": [s["deploy"] for s in samples],
        "rollback": [s["rollback"] for s in samples],
    }
    rows = []
    for key, values in series.items():
        target = TARGETS_S["rollback" if key == "rollback" else "deploy"]
        rows.append(
            {
                "metric": key,
                "median_s": statistics.median(values),
                "max_s": max(values),
                "target_s": target,
                "ok": max(values) <= target,
                "counts": True,
            }
        )
    if preflight is not None:  # informational: the gate is a local process start ([BUILD]'s preflight)
        rows.append(
            {
                "metric": "first_deploy_with_real_preflight",
                "median_s": preflight,
                "max_s": preflight,
                "target_s": TARGETS_S["deploy"],
                "ok": preflight <= TARGETS_S["deploy"],
                "counts": False,
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]], runs: int, against: str = "Lambda target vs moto") -> str:
    lines = [
        f"{against} on 127.0.0.1 ({runs} runs, image build excluded)",
        "",
        "| metric | median | max | target | ok |",
        "|---|---:|---:|---:|:---:|",
    ]
    for r in rows:
        verdict = ("yes" if r["ok"] else "NO") + ("" if r["counts"] else " (info)")
        lines.append(
            f"| {r['metric']} | {r['median_s'] * 1000:.0f} ms | {r['max_s'] * 1000:.0f} ms "
            f"| <= {r['target_s'] * 1000:.0f} ms | {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repeats (fresh agent each)")
    parser.add_argument("--json", dest="json_out", help="write the results as JSON to this file")
    parser.add_argument("--md", dest="md_out", help="write the markdown table to this file")
    parser.add_argument("--no-preflight", action="store_true", help="skip the real-preflight deploy")
    args = parser.parse_args()
    server = start_moto()
    try:
        from agentdock.store import open_store

        with tempfile.TemporaryDirectory(prefix="agentdock-bench-") as tmp:
            root = Path(tmp)
            os.environ["AGENTDOCK_HOME"] = str(root / "home")
            store = open_store(f"sqlite:///{root / 'agentdock.db'}")
            samples = [one_run(store, root) for _ in range(args.runs)]
            preflight = None if args.no_preflight else preflight_run(store, root)
            store.close()
    finally:
        server.stop()
    rows = summarize(samples, preflight)
    table = markdown(rows, args.runs)
    print(table)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump({"python": sys.version.split()[0], "runs": args.runs, "results": rows}, fh, indent=2)
    if args.md_out:
        Path(args.md_out).write_text(table + "\n", encoding="utf-8")
    return 0 if all(r["ok"] for r in rows if r["counts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
