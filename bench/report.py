"""The runtime benchmark's markdown table, kept between markers in bench/README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- runtime-bench:begin -->"
END = "<!-- runtime-bench:end -->"


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(result: dict[str, Any]) -> str:
    tput, cold, ttft, targets = (
        result["throughput"],
        result["cold_start_ms"],
        result["time_to_first_token"],
        result["targets"],
    )
    bare = tput["bare"]["req_per_s"]
    lines = [
        f"Latest run: {result['when']} ({result['machine']['cpus']} CPUs, Python {result['machine']['python']}, "
        f"{tput['bare']['requests']} requests x concurrency {tput['bare']['concurrency']}).",
        "",
        "| throughput | req/s | p50 ms | p99 ms | server CPU us/req | vs bare (req/s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = (
        ("raw graph.ainvoke (in process)", "raw_graph"),
        ("bare FastAPI route", "bare"),
        ("bare FastAPI route, graph via the LangGraph adapter", "bare_adapter"),
        ("AgentDock /invoke (auth, rate limit, policies, validation, metrics, logs)", "agentdock"),
    )
    for name, key in rows:
        row = tput[key]
        cpu = row.get("server_cpu_us_per_req", "-")
        lines.append(
            f"| {name} | {row['req_per_s']} | {row['p50_ms']} | {row['p99_ms']} | {cpu} | {row['req_per_s'] / bare:.3f}x |"
        )
    stack = result["serving_stack_cpu"]
    lines += [
        "",
        f"Capacity ratio from server CPU per request (bare / AgentDock): {tput['cpu_ratio_vs_bare']}x; "
        f"AgentDock vs the bare route using the same adapter: {tput['runtime_only_ratio']}x.",
        "",
        "| serving stack, instant agent, in process | CPU us/request (median) |",
        "|---|---:|",
        f"| bare FastAPI route | {stack['bare_fastapi_us']} |",
        f"| AgentDock /invoke, everything on | {stack['agentdock_us']} |",
        f"| added by AgentDock | {stack['added_us']} |",
    ]
    lines += [
        "",
        f"| cold start (exec -> first result), {cold['runs']} runs | best wall ms | median wall ms | median CPU ms |",
        "|---|---:|---:|---:|",
        *(
            f"| {label} | {cold[key]} | {cold[key + '_median']} | {cold[key + '_cpu']} |"
            for label, key in (
                ("script: import + build + invoke once", "baseline_script"),
                ("bare FastAPI app under uvicorn, first 200 on /invoke", "bare_fastapi"),
                ("AgentDock app_from_frozen under uvicorn, first 200 on /invoke", "agentdock"),
            )
        ),
        f"| added by AgentDock vs script | {cold['added_vs_script_ms']} | | {cold['added_cpu_vs_script_ms']} |",
        f"| added by AgentDock vs bare FastAPI | {cold['added_vs_bare_fastapi_ms']} | | {cold['added_cpu_vs_bare_fastapi_ms']} |",
        "",
        "| time to first token | ms (p50) |",
        "|---|---:|",
        f"| raw graph.astream first chunk (in process) | {ttft['raw_astream_ms']} |",
        f"| bare SSE route | {ttft['bare_sse_ms']} |",
        f"| AgentDock /stream (auth, policies, validation, metrics; no redact patterns) | {ttft['agentdock_sse_ms']} |",
        f"| AgentDock /stream with 2 redact patterns (the filter holds back a tail) | {ttft['agentdock_sse_redacting_ms']} |",
        f"| added vs bare SSE | {ttft['added_vs_bare_ms']} |",
        "",
        "| target | status |",
        "|---|---|",
        f"| throughput >= 0.95x bare ({tput['ratio_vs_bare']}x) | {_mark(targets['throughput_ratio_ge_0.95'])} |",
        f"| added cold start <= 250 ms ({cold['added_vs_script_ms']} ms) | {_mark(targets['added_cold_start_le_250ms'])} |",
        f"| TTFT <= bare SSE + 1 ms (+{ttft['added_vs_bare_ms']} ms) | {_mark(targets['ttft_le_bare_plus_1ms'])} |",
    ]
    return "\n".join(lines)


def update_readme(result: dict[str, Any], readme: Path, *, write: bool = True) -> str:
    """Replace the runtime section of ``readme`` (between the markers) with the new table."""
    table = render(result)
    if write:
        text = readme.read_text(encoding="utf-8") if readme.exists() else ""
        block = f"{BEGIN}\n{table}\n{END}"
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip() + ("\n\n" if text else "") + "## Runtime\n\n" + block + "\n"
        readme.write_text(text, encoding="utf-8")
    return table
