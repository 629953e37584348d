"""Knative target wall times against the Kubernetes API stand-in on 127.0.0.1 (the real
``kubernetes`` client over HTTP, a kubeconfig on disk), image build excluded.

    python bench/deploy_knative.py [--runs 5] [--json out.json] [--md out.md]

Per run, with a fresh agent and a fresh target (its API client is created inside the first timing,
as in a CLI process): a first deploy (Secret check, server-side dry run, create, watch the revision
to Ready, tag it, URL health gate on its tag URL, move ``live``), a second deploy (replace, the same
steps), and a rollback (one traffic patch, watched until the route serves it, plus the store). Deploys
are ``plan()`` + ``apply()``; the store is SQLite on disk. The stand-in's controller marks a revision
Ready after 50 ms, so the deploy figures include that simulated wait. The one-time import of the
``kubernetes`` package is reported on its own row (a CLI process pays it once).

Targets: deploy <= 3 s, rollback <= 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

TARGETS_S = {"deploy": 3.0, "rollback": 0.5}
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT),
    str(ROOT / "tests" / "knative"),
]  # bench helpers; the stand-in lives with the tests
from bench.deploy_lambda import markdown, timed  # noqa: E402 - after the path set-up


def spec_for(name: str) -> tuple[Any, dict[str, Any]]:
    """The doc_summarizer example under a fresh agent name: (spec, frozen spec data)."""
    from agentdock.spec import load_dockfile

    loaded = load_dockfile(ROOT / "examples" / "doc_summarizer" / "Dockfile.yaml", allow_unresolved=True)
    spec = loaded.spec.model_copy(update={"agent": loaded.spec.agent.model_copy(update={"name": name})})
    return spec, {**loaded.raw, "agent": {**loaded.raw["agent"], "name": name}}


def context(root: Path, name: str, raw: dict[str, Any], n: int) -> Any:
    from agentdock.targets.base import Artifact

    from agentdock.build.flavours import SPEC_FILE

    folder = root / f"{name}-{n}"
    (folder / SPEC_FILE).parent.mkdir(parents=True)
    (folder / SPEC_FILE).write_text(json.dumps(raw))
    return Artifact(str(folder), "sha256:" + f"{n:02d}" * 32, None, "knative")


def one_run(store: Any, root: Path, kubeconfig: Path) -> dict[str, float]:
    from agentdock.targets.knative import KnativeTarget

    name = f"bench_{uuid.uuid4().hex[:8]}"
    spec, raw = spec_for(name)
    contexts = [context(root, name, raw, n) for n in (1, 2)]
    target = KnativeTarget(store=store, kubeconfig=str(kubeconfig), actor="bench")

    def deploy(i: int) -> Any:
        return target.apply(target.plan(spec, contexts[i], image_uri=f"registry.example/{name}:{i}"))

    first, r1 = timed(lambda: deploy(0))
    second, r2 = timed(lambda: deploy(1))
    back, r3 = timed(lambda: target.rollback(name))
    assert (r1.version, r2.version, r3.version) == (1, 2, 1), (r1, r2, r3)
    return {"first_deploy": first, "deploy": second, "rollback": back}


def summarize(samples: list[dict[str, float]]) -> list[dict[str, Any]]:
    rows = []
    for key in ("first_deploy", "deploy", "rollback"):
        values = [s[key] for s in samples]
        target = TARGETS_S["rollback" if key == "rollback" else "deploy"]
        ok = max(values) <= target
        rows.append(
            {"metric": key, "median_s": statistics.median(values), "max_s": max(values), "target_s": target,
             "ok": ok, "counts": True}
        )  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "deploy_knative.json")
    parser.add_argument("--md", type=Path, default=None)
    args = parser.parse_args(argv)

    import_s, _ = timed(lambda: __import__("kubernetes.client"))
    from standin import KubeStandIn

    from agentdock.store import open_store

    standin = KubeStandIn().start()
    try:
        with tempfile.TemporaryDirectory(prefix="agentdock-bench-knative-") as tmp:
            root = Path(tmp)
            kubeconfig = standin.kubeconfig(root / "kubeconfig")
            with open_store(f"sqlite:///{root / 'store.db'}") as store:
                samples = [one_run(store, root, kubeconfig) for _ in range(args.runs)]
    finally:
        standin.stop()
    rows = summarize(samples)
    text = markdown(rows, args.runs, "Knative target vs the Kubernetes API stand-in") + "\n"
    text += f"\n(one-time import of the kubernetes client, not in the figures: {import_s * 1000:.0f} ms)\n"
    print(text, end="")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    record = {"runs": args.runs, "rows": rows, "samples": samples, "import_kubernetes_s": import_s}
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    if args.md:
        args.md.write_text(text)
    return 0 if all(r["ok"] for r in rows if r["counts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
