"""The benchmark harness of issue 7, one command: `python -m bench.run` (see bench/README.md).

Default mode: records a chat backlog on the write model, starts `ocs up` on a fresh data dir and free
port and an instant fake LLM, measures the projector draining the backlog and the local servers' raw
ceilings, creates a team, key and chatbot with `ocs admin`, then runs the locust load (warm-up, then a
fixed window) while sampling every process's RSS and CPU, and writes a JSON report.
`--growth`: the latency of the read endpoints as the number of sessions grows (bench.growth).
`--streaming`: the same load without and then with streamed replies, on a fresh stack each (bench.streaming).
`--waterfall`: polling widget users alone, 1 polling every 20 ms and then 10 every 0.1 s, on a fresh stack each; each
answered message timed hop by hop (bench.waterfall).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import ceilings, fill, profile, streaming, waterfall
from bench.bounds import bounds
from bench.mongo_ops import MongoOps
from bench.procs import CpuWindow, ProcessSampler
from bench.report import judge_load, lines, machine
from bench.stack import ROOT, BenchStack
from infra.config import load_settings
from infra.wiring.bootstrap import System
from tests.fake_llm import FakeLlm

DEFAULT_OUT = ROOT / "bench" / "results" / "latest.json"
# The profile starts this long after the users do, once every user is running.
PROFILE_AFTER_S = 3
# The waterfall's loads: (polling widget users, seconds between a user's polls), issue 20's two latency targets.
WATERFALL_LOADS = ((1, 0.02), (10, 0.1))


def options(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON report (default bench/results/latest.json)")
    p.add_argument("--data-dir", type=Path, help="a fresh directory for the stack (default: a new temp dir)")
    p.add_argument("--keep-data", action="store_true", help="keep the data dir (logs) after the run")
    load = p.add_argument_group("load")
    load.add_argument("--duration", type=float, default=60, help="measured seconds (default 60)")
    load.add_argument("--warmup", type=float, default=10, help="seconds of load before measuring (default 10)")
    load.add_argument("--users", type=int, default=10, help="widget users polling the task (default 10)")
    load.add_argument("--stream-users", type=int, default=2, help="widget users waiting on SSE (default 2)")
    load.add_argument("--api-users", type=int, default=2, help="API users listing and reading sessions (default 2)")
    load.add_argument("--api-think", type=float, default=1.0, help="seconds between an API user's reads (default 1)")
    load.add_argument("--poll-interval", type=float, default=0.1, help="seconds between task polls (default 0.1)")
    load.add_argument("--think-time", type=float, default=0.0, help="seconds a widget user waits between messages")
    load.add_argument("--messages-per-session", type=int, default=10, help="then the user starts a new session")
    load.add_argument("--reply-timeout", type=float, default=30, help="seconds before a reply counts as an error")
    load.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    load.add_argument("--no-probe", action="store_true", help="skip the command-to-read-model probe user")
    load.add_argument("--probe-interval", type=float, default=0.005, help="the probe's poll interval (s)")
    load.add_argument("--probe-every", type=float, default=0.5, help="seconds between the probe's messages")
    load.add_argument("--llm-delay", type=float, default=0.0, help="seconds before the fake LLM answers (default 0)")
    load.add_argument("--tokens", type=int, default=0, help="words in the fake's reply: the echo, padded (default 0)")
    load.add_argument("--token-delay", type=float, default=0.0, help="seconds between the fake's streamed words")
    load.add_argument("--completion-users", type=int, default=0, help="users of POST .../chat/completions (default 0)")
    load.add_argument(
        "--stream-replies",
        action="store_true",
        help="widget users (--users) follow each reply's deltas on the SSE stream instead of polling, and completion"
        " users ask for `stream: true`; the report's `streaming` has the first delta after the fake's first word",
    )
    load.add_argument("--workers", type=int, default=1, help="LLM worker replicas (ocs up --workers, default 1)")
    load.add_argument("--projectors", type=int, default=1, help="projector replicas (ocs up --projectors, default 1)")
    load.add_argument(
        "--worker-sweep",
        help="comma-separated worker counts (e.g. 1,2,3): the load once per count, each on a fresh stack, without"
        " ceilings or profile; the report's `worker_sweep` has answered/s and reply latency per count",
    )
    load.add_argument(
        "--profile",
        type=float,
        default=15,
        help="py-spy each stack process for this many seconds of the warm-up, which grows to hold it (default 15;"
        " 0: none). Profiling in the warm-up keeps its cost out of the measured window.",
    )
    load.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        help="wait up to this many seconds for other jobs on the machine to use < 25%% of a core before the load",
    )
    ceil = p.add_argument_group("ceilings")
    ceil.add_argument("--skip-ceilings", action="store_true", help="no raw ceilings and no projector benchmark")
    ceil.add_argument("--projector-sessions", type=int, default=300, help="backlog sessions (default 300)")
    ceil.add_argument("--projector-exchanges", type=int, default=10, help="messages+replies per backlog session")
    ceil.add_argument("--raw-kafka", type=int, default=20000, help="messages produced and consumed")
    ceil.add_argument("--raw-mongo-single", type=int, default=3000, help="single upserts")
    ceil.add_argument("--raw-mongo-bulk", type=int, default=20000, help="bulk upserts")
    stream = p.add_argument_group("streaming (bench.streaming)")
    stream.add_argument(
        "--streaming",
        action="store_true",
        help="the load without --stream-replies, then with it, each on a fresh stack, without ceilings or profile;"
        " the report's `streaming_comparison` and `targets` are issue 17's",
    )
    stream.add_argument("--no-baseline", action="store_true", help="with --streaming: the streaming run only")
    p.add_argument(
        "--waterfall",
        action="store_true",
        help="polling widget users alone (no SSE, API readers, probe, ceilings or profile): 1 user polling every 20 ms,"
        " then 10 every 0.1 s, each on a fresh stack; the report's `waterfall` has p50/p95 of each hop of a message",
    )
    growth = p.add_argument_group("growth (bench.growth)")
    growth.add_argument("--growth", action="store_true", help="run the growth benchmark instead of the load")
    growth.add_argument("--sizes", default="1000,10000", help="session counts to measure at (default 1000,10000)")
    growth.add_argument("--long-session", type=int, default=5000, help="messages in the one long session")
    growth.add_argument("--samples", type=int, default=50, help="requests per endpoint and size")
    growth.add_argument(
        "--fill-lot",
        type=int,
        default=10_000,
        help="sessions recorded at once, each lot projected before the next (default 10000; 0: a size's all at once)",
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = options(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ocs-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    if any(data_dir.iterdir()):
        print(f"{data_dir} is not empty: the benchmark needs a fresh data dir", file=sys.stderr)
        return 2
    parameters = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    report = {"machine": machine(), "parameters": parameters}
    report["parameters"]["data_dir"] = str(data_dir)
    try:
        if args.growth:
            from bench import growth

            report["growth"] = growth.run(args, data_dir, report)
        elif args.worker_sweep:
            report["worker_sweep"] = worker_sweep(args, data_dir)
        elif args.waterfall:
            report["waterfall"] = waterfall_runs(args, data_dir)
        elif args.streaming:
            report["streaming_comparison"] = streaming_comparison(args, data_dir)
            report["targets"] = streaming.judge(report["streaming_comparison"])
        else:
            run_load(args, data_dir, report)
            report["targets"] = judge_load(report)
            report["bounds"] = bounds(report)
    finally:
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
    if args.growth:
        from bench.growth import judge

        report["targets"] = judge(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print("\n".join(lines(report)))
    print(f"report: {args.out}")
    return 0


def worker_sweep(args, data_dir: Path) -> dict:
    """The same load against 1, 2, ... worker replicas, each on a fresh stack in its own part of the data dir."""
    args.skip_ceilings, args.profile = True, 0
    sweep = {}
    for count in [int(n) for n in args.worker_sweep.split(",")]:
        args.workers = count
        part = data_dir / f"workers-{count}"
        part.mkdir()
        step(f"sweep: {count} worker replica(s)")
        run = {}
        run_load(args, part, run)
        sweep[str(count)] = run_summary(run)
        step(f"sweep: {count} worker replica(s): {sweep[str(count)]['answered_per_s']} answered/s")
    return sweep


def streaming_comparison(args, data_dir: Path) -> dict:
    """The non-streaming run (unless --no-baseline), then the streaming one: the same users, fake LLM and durations,
    each on a fresh stack in its own part of the data dir."""
    args.skip_ceilings, args.profile = True, 0
    comparison = {}
    for name, stream_replies in ((("baseline", False),) if not args.no_baseline else ()) + (("streaming", True),):
        args.stream_replies = stream_replies
        part = data_dir / name
        part.mkdir()
        step(f"streaming comparison: the {name} run")
        run = {}
        run_load(args, part, run)
        comparison[name] = {
            **run_summary(run),
            "users": args.users + args.completion_users,
            "reply_latency": run["load"]["reply_latency"],
            "endpoints": run["load"]["endpoints"],
            "request_failures": run["load"]["request_failures"],
            "cpu": run.get("cpu"),
            "streaming": run.get("streaming"),
            "stop": run["stop"],
        }
        step(f"streaming comparison: the {name} run answered {comparison[name]['answered_per_s']}/s")
    return comparison


def waterfall_runs(args, data_dir: Path) -> dict:
    """Each of WATERFALL_LOADS on a fresh stack in its own part of the data dir, with nothing else loading it."""
    args.skip_ceilings, args.profile, args.no_probe = True, 0, True
    args.stream_users = args.api_users = args.completion_users = 0
    runs = {}
    for users, poll_interval in WATERFALL_LOADS:
        args.users, args.poll_interval = users, poll_interval
        part = data_dir / f"waterfall-{users}"
        part.mkdir()
        step(f"waterfall: {users} user(s) polling every {poll_interval} s")
        run = {}
        run_load(args, part, run)
        cpu = run.get("cpu") or {}
        runs[f"{users} users"] = {
            "users": users,
            "poll_interval_s": poll_interval,
            **run_summary(run),
            "machine_busy_percent": cpu.get("machine_busy_percent"),
            "foreign_cpu_percent": cpu.get("foreign_percent"),
            **run["waterfall"],
        }
        step(f"waterfall: {users} user(s): {runs[f'{users} users']['answered_per_s']} answered/s")
    return runs


def run_summary(run: dict) -> dict:
    """What a run of a sweep or comparison keeps: answered/s, reply latency, errors and CPU."""
    latency = run["load"]["reply_latency"]
    return {
        "answered_per_s": run["load"]["answered_per_s"],
        "reply_latency_ms": {kind: {"p50": lat["p50_ms"], "p95": lat["p95_ms"]} for kind, lat in latency.items()},
        "errors": run["load"].get("flow_errors"),
        "cpu_percent_of_one_core": run.get("cpu", {}).get("percent_of_one_core"),
    }


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def seed_backlog(args, data_dir: Path) -> tuple[int, int]:
    """Chat traffic recorded before the stack starts, so the projector starts with a backlog: (events, writes)."""
    system = System(load_settings(data_dir))
    try:
        tenant = fill.create_tenant(system, "bench-backlog")
        recorded = fill.record_chat_traffic(
            system, tenant["chatbot_id"], args.projector_sessions, args.projector_exchanges
        )
        events, writes = ceilings.writes_per_event(system.app.all_envelopes())
    finally:
        system.close()
    step(f"backlog: {events} events, {writes} MongoDB writes ({recorded['commands']} commands, {recorded['seconds']}s)")
    return events, writes


def run_load(args, data_dir: Path, report: dict) -> None:
    if not args.skip_ceilings:
        step("recording the projector's backlog on the write model")
        events, writes = seed_backlog(args, data_dir)
    first_tokens = streaming.FirstTokens()
    llm = FakeLlm(
        reply=streaming.padded_echo(args.tokens),
        delay_s=args.llm_delay,
        token_delay_s=args.token_delay,
        on_first_token=first_tokens,
    ).start()
    replicas = ("--workers", str(args.workers), "--projectors", str(args.projectors))
    # The waterfall reads the sessions topic once the load is over: its records must outlive the local broker's
    # one-minute retention (`infra.kafka_retention`).
    keep = {"OCS_KAFKA_RETENTION_MS": "-1"} if args.waterfall else {}
    stack = BenchStack(data_dir, env=keep, replicas=replicas).start()
    sampler = ProcessSampler(stack.process.pid, {os.getpid(): "harness"}).start()
    try:
        step(f"ocs up (pid {stack.process.pid}) on {stack.base_url}, data in {data_dir}")
        servers = stack.wait_for_servers()
        if not args.skip_ceilings:
            step("projector draining the backlog")
            report["projector"] = ceilings.projector_throughput(servers["kafka_bootstrap"], events, writes)
        stack.wait_until_healthy()
        step("stack healthy")
        if not args.skip_ceilings:
            step("raw ceilings: kafka-python produce/consume, pymongo single/bulk upserts")
            report["raw_ceilings"] = {
                "kafka": ceilings.kafka_produce_consume(servers["kafka_bootstrap"], args.raw_kafka),
                "mongodb": ceilings.mongo_upserts(servers["mongo_url"], args.raw_mongo_single, args.raw_mongo_bulk),
            }
        tenant = admin_tenant(stack, llm.base_url)
        report["foreign_cpu_before_load"] = wait_quiet(sampler, args.wait_quiet)
        step("load: warming up")
        mongo_ops = MongoOps(servers["mongo_url"])
        report["load"], report["cpu"], report["profile"] = run_locust(args, stack, tenant, sampler, data_dir, mongo_ops)
        report["mongodb_operations"] = mongo_ops.summary(report["load"]["answered_messages"])
        streamed = report["load"].pop("streamed_replies")
        polled = report["load"].pop("polled_replies")
        if args.waterfall:
            report["waterfall"] = waterfall.measure(polled, servers["kafka_bootstrap"], data_dir / "logs")
        if args.stream_replies:
            records = streaming.first_delta_records(servers["kafka_bootstrap"])
            report["streaming"] = {
                "clock": streaming.clock(),
                "by_client": streaming.measured(streamed, first_tokens, records, report["load"]["seconds"]),
            }
        rate = report["load"]["answered_per_s"]
        if report["cpu"] and rate:
            # CPU time each process spends per answered message: what bounds the rate on a fixed number of cores.
            report["cpu"]["ms_per_answered_message"] = {
                role: round(percent * 10 / rate, 2) for role, percent in report["cpu"]["percent_of_one_core"].items()
            }
        report["fake_llm_calls"] = len(llm.requests)
    finally:
        sampler.stop()
        report["peak_rss_mb"] = sampler.peak_rss_mb()
        report["rss_samples"] = sampler.samples
        leftovers = stack.stop()
        llm.stop()
        report["stop"] = {"clean": not leftovers, "killed_leftovers": leftovers}
        step("stack stopped" + (f"; had to kill {leftovers}" if leftovers else " cleanly"))


def wait_quiet(sampler: ProcessSampler, timeout_s: float, threshold: float = 25) -> float:
    """CPU % (of one core) that processes outside the stack and this harness use, measured over 3 s; with a
    timeout, measured again until it falls under the threshold or the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        window = CpuWindow(sampler)
        window.start()
        time.sleep(3)
        foreign = window.stop()["foreign_percent"]
        if foreign < threshold or time.monotonic() >= deadline:
            if foreign >= threshold:
                step(f"warning: other jobs use {foreign} % of a core; numbers will be lower than on a quiet machine")
            return foreign
        step(f"other jobs use {foreign} % of a core; waiting for a quieter machine")
        time.sleep(5)


def admin_tenant(stack: BenchStack, llm_base_url: str) -> dict:
    """A team, a writable key and a chatbot answering through the fake LLM, made as a user would (`ocs admin`)."""
    stack.admin("create-team", "--slug", "bench", "--name", "Bench")
    key = stack.admin("create-api-key", "--team", "bench", "--write")["key"]
    chatbot = stack.admin(
        "create-chatbot", "--team", "bench", "--name", "Bench Bot", "--prompt",
        "Help with {session_state.page_context.product_name}", "--provider", "openai",
        "--base-url", llm_base_url, "--api-key", "x", "--model", "m",
    )["id"]  # fmt: skip
    stack.admin("publish-version", "--chatbot", chatbot, "--make-default")
    return {"key": key, "chatbot_id": chatbot}


def run_locust(args, stack: BenchStack, tenant: dict, sampler: ProcessSampler, data_dir: Path, mongo_ops: MongoOps):
    config = {
        "host": stack.base_url,
        "chatbot_id": tenant["chatbot_id"],
        "api_key": tenant["key"],
        "users": args.users,
        "stream_users": args.stream_users,
        "completion_users": args.completion_users,
        "stream_replies": args.stream_replies,
        "api_users": args.api_users,
        "api_think_s": args.api_think,
        "probe": not args.no_probe,
        "probe_interval_s": args.probe_interval,
        "probe_every_s": args.probe_every,
        "poll_interval": args.poll_interval,
        "think_time": args.think_time,
        "messages_per_session": args.messages_per_session,
        "reply_timeout_s": args.reply_timeout,
        "spawn_rate": args.spawn_rate,
        "warmup_s": max(args.warmup, args.profile + PROFILE_AFTER_S + 2 if args.profile else 0),
        "duration_s": args.duration,
    }
    config_path, result_path = data_dir / "load-config.json", data_dir / "load-result.json"
    config_path.write_text(json.dumps(config))
    log = open(data_dir / "locust.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.load", str(config_path), str(result_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    sampler.watch(process.pid, "load-generator")
    cpu = CpuWindow(sampler)
    usage, profiles, profiler = None, {}, None
    profile_dir = args.out.parent / f"{args.out.stem}-profiles"
    try:
        for line in process.stdout:
            if line.startswith("LOAD_START") and args.profile:
                step(f"load: profiling {args.profile:.0f} s of the warm-up")

                def record_profiles():
                    time.sleep(PROFILE_AFTER_S)
                    profiles.update(profile.record(sampler, args.profile, profile_dir))

                profiler = threading.Thread(target=record_profiles)
                profiler.start()
            elif line.startswith("MEASURE_START"):
                step(f"load: measuring for {args.duration:.0f} s")
                cpu.start()
                mongo_ops.start()
            elif line.startswith("MEASURE_END"):
                usage = cpu.stop()
                mongo_ops.mark_end()
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    if profiler is not None:
        profiler.join()
    if process.returncode != 0 or not result_path.exists():
        raise RuntimeError(f"the load generator failed ({process.returncode}); see {data_dir / 'locust.log'}")
    return json.loads(result_path.read_text()), usage, profiles or None


if __name__ == "__main__":
    sys.exit(main())
