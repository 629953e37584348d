"""Console benchmark: page load to the first meaningful paint, and the delay from a pointer move
to the page, in headless Chromium on this machine.

    python bench/dashboard.py [--rounds 5]

* **page load**: navigation start to the agents table painted (signed in, two agents), best and
  median of N; baseline in the same run: a static page of the same size from a plain
  ``http.server`` (what the network and browser alone cost).
* **update latency**: from the start of a rollback by the local target (called in this process,
  no browser involved; the pointer move itself takes milliseconds on a warm version) to the page
  showing the new live version, through the SSE stream; median of N moves.

Targets: page load <= 2 s; update <= 1 s. Writes ``bench/results/dashboard.json``.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from agentdock.testing.browser import CHROMIUM, CHROMIUM_ARGS
from bench.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def _cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "agentdock", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(out.stdout))


def _wait(url: str, timeout_s: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="agentdock-bench-dash-"))
    env = {**os.environ, "AGENTDOCK_HOME": str(tmp / "home")}
    env.pop("AGENTDOCK_STORE", None)
    agent_dir = tmp / "doc_summarizer"
    shutil.copytree(ROOT / "examples" / "doc_summarizer", agent_dir)
    agent_port, port = free_port(), free_port()
    _cli(env, "deploy", str(agent_dir / "Dockfile.yaml"), "--port", str(agent_port))
    with (agent_dir / "agent.py").open("a") as fh:
        fh.write("\n# v2\n")
    _cli(env, "deploy", str(agent_dir / "Dockfile.yaml"), "--port", str(agent_port))
    log = (tmp / "dash.out").open("w")
    dash = subprocess.Popen(
        [sys.executable, "-m", "agentdock", "dashboard", "--port", str(port), "--json"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    static_dir = tmp / "static"
    static_dir.mkdir()
    page_bytes = (ROOT / "agentdock" / "dashboard" / "static" / "index.html").read_bytes()
    (static_dir / "index.html").write_bytes(
        page_bytes.replace(b"/static/app.js", b"").replace(b"/static/app.css", b"")
    )
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(static_dir))  # noqa: E731
    static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=static.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait(url)
        text = (tmp / "dash.out").read_text()
        admin = json.loads(text[: text.index("}") + 1])["admin_key"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            context = browser.new_context()
            page = context.new_page()
            page.goto(url)
            page.fill("#signin-key", admin)
            page.click("#signin-submit")
            page.wait_for_selector("#agents tbody tr")
            loads, baseline = [], []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{static.server_address[1]}/index.html")
                page.wait_for_selector("header")
                baseline.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#agents tbody tr")
                loads.append(time.perf_counter() - t0)
            os.environ["AGENTDOCK_HOME"] = env["AGENTDOCK_HOME"]
            from agentdock.targets import get_target

            from agentdock.store import open_store

            target = get_target("local", store=open_store(None))
            page.goto(url + "#/agents/doc_summarizer/overview")
            page.wait_for_selector("#live")
            updates = []
            for i in range(args.rounds):
                want = 1 if i % 2 == 0 else 2
                t0 = time.perf_counter()
                target.rollback("doc_summarizer", want)  # the pointer move, in this process
                page.wait_for_function(
                    "v => document.querySelector('#live')?.textContent === 'live v' + v",
                    arg=want,
                    timeout=10000,
                )
                updates.append(time.perf_counter() - t0)
            browser.close()
    finally:
        dash.terminate()
        dash.wait(timeout=10)
        static.shutdown()
        subprocess.run(
            [sys.executable, "-m", "agentdock", "destroy", "doc_summarizer", "--yes"],
            env=env,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "page_load_s": {"best": round(min(loads), 3), "median": round(statistics.median(loads), 3)},
        "baseline_static_page_s": {
            "best": round(min(baseline), 3),
            "median": round(statistics.median(baseline), 3),
        },
        "update_latency_s": {"median": round(statistics.median(updates), 3), "max": round(max(updates), 3)},
        "targets": {"page_load_s": 2.0, "update_latency_s": 1.0},
    }
    result["met"] = {
        "page_load": result["page_load_s"]["median"] <= 2.0,
        "update_latency": result["update_latency_s"]["median"] <= 1.0,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboard.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
