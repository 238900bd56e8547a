"""Markdown tables of one or more JSON reports, for bench/README.md: `python -m bench.summary bench/results/*.json`."""

import json
import sys
from pathlib import Path


def load_rows(reports: dict[str, dict]) -> list[str]:
    rows = [
        "| report | users (poll+SSE+API) | answered/s | poll reply p50/p95/p99 ms | SSE reply p50/p95 ms "
        "| cmd→read model p50/p95 ms | errors | CPU: stack / other jobs (% of 1 core) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in reports.items():
        load, p, cpu = r.get("load"), r["parameters"], r.get("cpu") or {}
        if not load:
            continue
        poll = load["reply_latency"].get("poll") or {}
        sse = load["reply_latency"].get("stream") or {}
        delay = load["read_model_delay"]["upper_bound"]
        errors = sum(sum(c.values()) for c in load["request_failures"].values()) + sum(load["flow_errors"].values())
        stack = sum(v for k, v in cpu.get("percent_of_one_core", {}).items() if k not in ("harness", "load-generator"))
        rows.append(
            f"| {name} | {p['users']}+{p['stream_users']}+{p['api_users']} | {load['answered_per_s']} "
            f"| {poll.get('p50_ms')}/{poll.get('p95_ms')}/{poll.get('p99_ms')} "
            f"| {sse.get('p50_ms')}/{sse.get('p95_ms')} "
            f"| {delay['p50_ms']}/{delay['p95_ms']} | {errors} | {stack:.0f} / {cpu.get('foreign_percent')} |"
        )
    return rows if len(rows) > 2 else []


def streaming_rows(reports: dict[str, dict]) -> list[str]:
    """One row per run of each streaming comparison (`--streaming`)."""
    rows = [
        "| report | run | users (widget+completion), fake reply | answered/s | first delta after the fake's first word "
        "p50/p95 ms: SSE / completions | SSE: worker's first delta record after it p50/p95 | reply p50/p95 ms: "
        "widget / completions | machine busy / other jobs (% of 1 core) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in reports.items():
        p = r["parameters"]
        for run_name, run in r.get("streaming_comparison", {}).items():
            fake = f"{p['tokens']} words, {p['token_delay'] * 1000:g} ms apart"
            by_client = (run.get("streaming") or {}).get("by_client", {})
            sse, completions = by_client.get("sse", {}), by_client.get("completion-stream", {})
            latency, cpu = run["reply_latency"], run.get("cpu") or {}
            widget = latency.get("sse") or latency.get("poll")
            completion = latency.get("completion-stream") or latency.get("completion")
            rows.append(
                f"| {name} | {run_name} | {p['users']}+{p['completion_users']}, {fake} | {run['answered_per_s']} "
                f"| {p50_p95(sse.get('first_delta_after_first_token'))} "
                f"/ {p50_p95(completions.get('first_delta_after_first_token'))} "
                f"| {p50_p95(sse.get('first_delta_record_after_first_token'))} "
                f"| {p50_p95(widget)} / {p50_p95(completion)} "
                f"| {cpu.get('machine_busy_percent')} / {cpu.get('foreign_percent')} |"
            )
    return rows if len(rows) > 2 else []


def p50_p95(latency: dict | None) -> str:
    return f"{latency['p50_ms']}/{latency['p95_ms']}" if latency and latency.get("count") else "-"


def endpoint_rows(name: str, report: dict) -> list[str]:
    rows = [f"Endpoints of `{name}`:", "", "| endpoint | req/s | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
    for endpoint, s in report["load"]["endpoints"].items():
        rows.append(f"| `{endpoint}` | {s['per_s']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} |")
    return rows


def cpu_rows(name: str, report: dict) -> list[str]:
    cpu = report.get("cpu") or {}
    per_msg = cpu.get("ms_per_answered_message", {})
    rows = [
        f"CPU and memory of `{name}`:",
        "",
        "| process | CPU % of one core | CPU ms per answered message | peak RSS MB |",
    ]
    rows.append("|---|---|---|---|")
    for role, percent in cpu.get("percent_of_one_core", {}).items():
        rows.append(f"| {role} | {percent} | {per_msg.get(role)} | {report['peak_rss_mb'].get(role)} |")
    return rows


def ceiling_rows(name: str, report: dict) -> list[str]:
    raw, projector = report.get("raw_ceilings"), report.get("projector")
    if not raw or not projector:
        return []
    k, m = raw["kafka"], raw["mongodb"]
    return [
        f"Ceilings of `{name}`:",
        "",
        "| measure | per second |",
        "|---|---|",
        f"| kafka-python produce (acks=all, linger 5 ms, {k['message_bytes']} B) | {k['produce_per_s']} |",
        f"| kafka-python consume | {k['consume_per_s']} |",
        f"| pymongo single upserts | {m['single_upserts_per_s']} |",
        f"| pymongo bulk upserts (batches of {m['bulk_batch']}) | {m['bulk_upserts_per_s']} |",
        f"| projector, events ({projector['events']} on a backlog) | {projector['events_per_s']} |",
        f"| projector, MongoDB writes ({projector['writes_per_event']}/event) | {projector['mongo_writes_per_s']} |",
        f"| relay, events published meanwhile | {projector['relay_events_per_s']} |",
    ]


def waterfall_rows(name: str, report: dict) -> list[str]:
    """One row per hop of a message, a column per load of the waterfall (`--waterfall`)."""
    runs = report["waterfall"]
    rows = [
        f"Waterfall (`{name}`), p50 / p95 ms per hop:",
        "",
        "| hop | "
        + " | ".join(f"{r['users']} user(s) polling every {r['poll_interval_s']} s" for r in runs.values())
        + " |",
        "|---|" + "---|" * len(runs),
    ]
    hops = list(next(iter(runs.values()))["hops"])
    for hop in hops:
        rows.append(f"| {hop} | " + " | ".join(p50_p95(r["hops"].get(hop)) for r in runs.values()) + " |")
    rows.append("| (answered/s) | " + " | ".join(str(r["answered_per_s"]) for r in runs.values()) + " |")
    rows.append(
        "| (messages timed at every instant / answered in the window) | "
        + " | ".join(f"{r['timed_at_every_instant']} / {r['messages']}" for r in runs.values())
        + " |"
    )
    loops = [r.get("projector_loop") for r in runs.values()]
    if all(loops):
        for part in ("loop", "poll_to_last_write", "last_write_to_next_poll"):
            name = part.replace("_", " ")
            rows.append(f"| (projector: {name}) | " + " | ".join(p50_p95(loop[part]) for loop in loops) + " |")
        rows.append(
            "| (projector: events per chunk) | "
            + " | ".join(f"{loop['events_per_chunk']['p50']}/{loop['events_per_chunk']['p95']}" for loop in loops)
            + " |"
        )
    rows.append(
        "| (machine busy / other jobs' CPU, % of 1 core) | "
        + " | ".join(f"{r.get('machine_busy_percent')} / {r.get('foreign_cpu_percent')}" for r in runs.values())
        + " |"
    )
    return rows


def growth_rows(name: str, report: dict) -> list[str]:
    growth = report["growth"]
    sizes = list(growth["sizes"])
    endpoints = list(growth["sizes"][sizes[0]]["latency"])
    rows = [
        f"Growth (`{name}`), p50 / p95 ms:",
        "",
        "| endpoint | " + " | ".join(f"{s} sessions" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for endpoint in endpoints:
        cells = [growth["sizes"][s]["latency"][endpoint] for s in sizes]
        rows.append(f"| `{endpoint}` | " + " | ".join(f"{c['p50_ms']} / {c['p95_ms']}" for c in cells) + " |")
    foreign = [str(growth["sizes"][s].get("cpu_while_measuring", {}).get("foreign_percent")) for s in sizes]
    rows.append("| (other jobs' CPU meanwhile, % of 1 core) | " + " | ".join(foreign) + " |")
    fills = [growth["sizes"][s]["fill"] for s in sizes]
    rows.append(
        "| (fill: sessions added, seconds to record + project) | "
        + " | ".join(f"{f['sessions_added']} in {f['record_and_project_s']} s" for f in fills)
        + " |"
    )
    long = growth.get("long_session")
    if long:
        rows += ["", f"One session with {long['messages']} messages (filled in {long['fill_s']} s), p50 / p95 ms:", ""]
        rows += ["| endpoint | p50 / p95 ms | response bytes |", "|---|---|---|"]
        for endpoint, c in long["latency"].items():
            rows.append(f"| `{endpoint}` | {c['p50_ms']} / {c['p95_ms']} | {c['bytes']} |")
    return rows


def main(paths: list[str]) -> int:
    reports = {Path(p).stem: json.loads(Path(p).read_text()) for p in paths}
    out = load_rows(reports)
    streaming = streaming_rows(reports)
    if streaming:
        out += ["", *streaming] if out else streaming
    for name, report in reports.items():
        for part in (ceiling_rows, endpoint_rows, cpu_rows):
            if report.get("load") or part is ceiling_rows:
                rows = part(name, report)
                if rows:
                    out += ["", *rows]
        if report.get("growth"):
            out += ["", *growth_rows(name, report)]
        if report.get("waterfall"):
            out += ["", *waterfall_rows(name, report)]
        targets = report.get("targets", {})
        if targets:
            out += ["", f"Targets (`{name}`):", ""]
            for target, judged in targets.items():
                mark = {True: "PASS", False: "FAIL", None: "not judged"}[judged["pass"]]
                out.append(f"- {mark} {target}: {judged['target']}: {judged['margin']}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
