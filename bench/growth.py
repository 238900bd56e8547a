"""Growth: do the read endpoints stay flat as sessions pile up (they should: every query is indexed)?

Sessions are recorded straight on the write model (bench.fill), the harness waits until the projector has
committed every event, then times each endpoint with sequential requests over one keep-alive connection.
The same documents are read at every size, so only the collection sizes change. One long chat session
(5k messages by default: user messages recorded here, each answered by the echo worker) is read last.
"""

import os
import time

import requests
from kafka import KafkaAdminClient
from pymongo import MongoClient

from bench import ceilings, fill
from bench.procs import CpuWindow, ProcessSampler
from bench.report import judge_growth, judge_rss
from bench.stack import BenchStack
from bench.stats import median_ms, summary
from infra.config import load_settings
from infra.wiring.bootstrap import System
from query_api.queries.pagination import DEFAULT_PAGE_SIZE, PageRequest, paginate
from query_api.queries.sessions import SessionFilter, session_listing
from schemas.read_models import SESSIONS

WARMUP_REQUESTS = 5
USAGE_TOTALS = "metric=messages&metric=sessions&metric=tokens&metric=cost"
USAGE_DAILY_BY_CHATBOT = "metric=messages&metric=sessions&granularity=daily&group_by=chatbot"
PROJECTION_TIMEOUT_S = 1800


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


class Projected:
    """Waits until the projector has committed every event the write model holds."""

    def __init__(self, system: System, bootstrap: str):
        self.system = system
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-growth")

    def wait(self) -> float:
        began = time.monotonic()
        expected = self.system.app.recorder.max_notification_id() or 0
        while ceilings.committed_total(self.admin, ceilings.PROJECTOR_GROUP) < expected:
            if time.monotonic() - began > PROJECTION_TIMEOUT_S:
                raise TimeoutError(f"the projector did not reach {expected} events")
            time.sleep(0.2)
        return time.monotonic() - began

    def close(self) -> None:
        self.admin.close()


def timed(http: requests.Session, url: str, headers: dict, samples: int) -> dict:
    times = []
    for n in range(WARMUP_REQUESTS + samples):
        began = time.perf_counter()
        response = http.get(url, headers=headers, timeout=60)
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text[:200]}")
        if n >= WARMUP_REQUESTS:
            times.append(elapsed)
    result = summary(times)
    result["bytes"] = len(response.content)
    return result


def chat_session(base_url: str, chatbot_id: str, messages: int = 1) -> dict:
    """A widget session with `messages` answered messages: its id, token and last task."""
    http = requests.Session()
    started = http.post(f"{base_url}/api/chat/start/", json={"chatbot_id": chatbot_id}, timeout=30).json()
    auth = {"X-Session-Token": started["session_token"]}
    task_id = None
    for n in range(messages):
        task_id = http.post(
            f"{base_url}/api/chat/{started['session_id']}/message/", json={"message": f"hi {n}"}, headers=auth
        ).json()["task_id"]
        deadline = time.monotonic() + 30
        while (
            http.get(f"{base_url}/api/chat/{started['session_id']}/{task_id}/poll/", headers=auth).json()["status"]
            == "processing"
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)
    return {"id": started["session_id"], "auth": auth, "task_id": task_id}


def endpoints(base_url: str, key: str, chatbot_id: str, api_session: str, chat: dict) -> dict[str, tuple[str, dict]]:
    api = {"X-api-key": key}
    return {
        "GET /api/sessions/": (f"{base_url}/api/sessions/", api),
        # Each filter's first page: the chatbot's, and a tag and a version no session here has (their counters and index
        # ranges are read all the same).
        "GET /api/sessions/?experiment=": (f"{base_url}/api/sessions/?experiment={chatbot_id}", api),
        "GET /api/sessions/?tags=": (f"{base_url}/api/sessions/?tags=absent", api),
        "GET /api/sessions/?versions=": (f"{base_url}/api/sessions/?versions=v1", api),
        "GET /api/participants/": (f"{base_url}/api/participants/", api),
        "GET /api/sessions/{id}/": (f"{base_url}/api/sessions/{api_session}/", api),
        "GET /api/chat/{sid}/poll/": (f"{base_url}/api/chat/{chat['id']}/poll/", chat["auth"]),
        "GET /api/chat/{sid}/{task_id}/poll/": (
            f"{base_url}/api/chat/{chat['id']}/{chat['task_id']}/poll/",
            chat["auth"],
        ),
        # Usage reads counters per day and chatbot: it should not grow with the messages (2 per session here).
        "GET /api/v2/usage/ (month, every metric but participants)": (f"{base_url}/api/v2/usage/?{USAGE_TOTALS}", api),
        "GET /api/v2/usage/ (daily, by chatbot)": (f"{base_url}/api/v2/usage/?{USAGE_DAILY_BY_CHATBOT}", api),
    }


def run(args, data_dir, report: dict) -> dict:
    sizes = sorted(int(s) for s in args.sizes.split(","))
    stack = BenchStack(data_dir).start()
    sampler = ProcessSampler(stack.process.pid, {os.getpid(): "harness"}).start()
    out: dict = {"sizes": {}, "method": __doc__.strip().splitlines()[0]}
    system = None
    try:
        step(f"ocs up (pid {stack.process.pid}) on {stack.base_url}, data in {data_dir}")
        servers = stack.wait_for_servers()
        stack.wait_until_healthy()
        system = System(load_settings(data_dir))
        projected = Projected(system, servers["kafka_bootstrap"])
        mongo = MongoClient(servers["mongo_url"], serverSelectionTimeoutMS=5000)
        tenant = fill.create_tenant(system, "growth")
        first_session = fill.record_sessions(system, tenant, 1)
        projected.wait()
        chat = chat_session(stack.base_url, tenant["chatbot_id"], messages=2)
        urls = endpoints(stack.base_url, tenant["key"], tenant["chatbot_id"], first_session, chat)
        http = requests.Session()
        recorded = 1
        for size in sizes:
            step(f"recording sessions up to {size}")
            began = time.monotonic()
            added, record_s = size - recorded, 0.0
            # Lot by lot, so that the broker holds what the projector is behind by in a burst, not the whole fill.
            for lot in lots(recorded, size, args.fill_lot):
                lot_began = time.monotonic()
                fill.record_sessions(system, tenant, len(lot), first=lot.start)
                record_s += time.monotonic() - lot_began
                projected.wait()
            total_s = time.monotonic() - began
            recorded = size
            step(f"{size} sessions projected ({added} added: recorded in {record_s:.0f} s, projected {total_s:.0f} s)")
            out["sizes"][str(size)] = {
                "fill": {
                    "sessions_added": added,
                    "record_s": round(record_s, 1),
                    "record_and_project_s": round(total_s, 1),
                    "sessions_per_s": round(added / total_s, 1) if total_s else None,
                    "events_total": system.app.recorder.max_notification_id(),
                },
                "latency": measured(sampler, http, {**urls, **later_page(http, urls)}, args.samples),
                "sessions_list_on_server": sessions_list_on_server(mongo[system.settings.mongo_db], tenant["team"]),
                # Reaching this size and measuring at it.
                "peak_rss_mb": sampler.recent_peak_rss_mb(),
            }
            out["sizes"][str(size)]["cpu_while_measuring"] = out["sizes"][str(size)]["latency"].pop("cpu")
        last_rate = out["sizes"][str(sizes[-1])]["fill"]["sessions_per_s"]
        if last_rate:
            out["estimate_100k_fill_s"] = round((100000 - sizes[-1]) / last_rate)
        if args.long_session:
            out["long_session"] = long_session(args, stack, system, mongo, tenant, http, sampler)
        mongo.close()
        projected.close()
    finally:
        if system is not None:
            system.close()
        sampler.stop()
        report["peak_rss_mb"] = sampler.peak_rss_mb()
        leftovers = stack.stop()
        report["stop"] = {"clean": not leftovers, "killed_leftovers": leftovers}
        step("stack stopped" + (f"; had to kill {leftovers}" if leftovers else " cleanly"))
    return out


def lots(first: int, end: int, size: int) -> list[range]:
    """first..end - 1 in consecutive ranges of at most `size` (one range when `size` is 0)."""
    step = size or (end - first)
    return [range(start, min(start + step, end)) for start in range(first, end, step)]


def later_page(http: requests.Session, urls: dict) -> dict[str, tuple[str, dict]]:
    """The sessions list's second page, as the first page's `next` link gives it at this size."""
    url, headers = urls["GET /api/sessions/"]
    return {
        "GET /api/sessions/?cursor= (second page)": (http.get(url, headers=headers, timeout=60).json()["next"], headers)
    }


def sessions_list_on_server(db, team: str, samples: int = 5) -> dict:
    """The MongoDB operations of `GET /api/sessions/`'s first page timed on their own (its counters, its windows of
    `sort_key`), and the server's plan for the range the page holds: what the endpoint's growth comes from."""
    first_page = PageRequest(DEFAULT_PAGE_SIZE, None, "/", ())
    everything = SessionFilter(None, (), ())

    def page():
        return paginate(db[SESSIONS], session_listing(db, team, everything), False, first_page)[0]

    held = {"team": team, "sort_key": {"$gte": page()[-1]["sort_key"]}}
    return {
        "page_and_count_ms": median_ms(page, samples),
        "plan": plan_stages(db[SESSIONS].find(held).sort("sort_key", -1).explain()["queryPlanner"]["winningPlan"]),
    }


def plan_stages(stage: dict) -> str:
    """A plan as its stages from the top, e.g. `SORT <- FETCH <- IXSCAN team_1_sort_key_1`."""
    name = stage.get("stage", "?") + (f" {stage['indexName']}" if "indexName" in stage else "")
    child = stage.get("inputStage")
    return f"{name} <- {plan_stages(child)}" if child else name


def measured(sampler, http, urls: dict, samples: int) -> dict:
    """Each endpoint timed, plus the machine's CPU meanwhile (other jobs on the machine slow every request)."""
    window = CpuWindow(sampler)
    window.start()
    latency = {name: timed(http, url, headers, samples) for name, (url, headers) in urls.items()}
    usage = window.stop()
    latency["cpu"] = {k: usage[k] for k in ("machine_busy_percent", "foreign_percent", "percent_of_one_core")}
    return latency


def long_session(args, stack, system, mongo, tenant, http, sampler) -> dict:
    """One chat session with `args.long_session` messages (half user messages, half echo replies)."""
    step(f"one session with {args.long_session} messages")
    chat = chat_session(stack.base_url, tenant["chatbot_id"], messages=1)
    began = time.monotonic()
    fill.submit_messages(system, chat["id"], args.long_session // 2 - 1)
    messages = mongo["ocs"]["messages"]
    deadline = time.monotonic() + PROJECTION_TIMEOUT_S
    while messages.count_documents({"session_id": chat["id"]}) < args.long_session and time.monotonic() < deadline:
        time.sleep(0.5)
    filled_s = time.monotonic() - began
    last = messages.find({"session_id": chat["id"]}).sort("created_at", -1).skip(60).limit(1)[0]["created_at"]
    api = {"X-api-key": tenant["key"]}
    base = stack.base_url
    urls = {
        "GET /api/sessions/{id}/ (all messages)": (f"{base}/api/sessions/{chat['id']}/", api),
        "GET /api/chat/{sid}/poll/ (first 50)": (f"{base}/api/chat/{chat['id']}/poll/", chat["auth"]),
        "GET /api/chat/{sid}/poll/?since= (last 60)": (
            f"{base}/api/chat/{chat['id']}/poll/?{requests.compat.urlencode({'since': last})}",
            chat["auth"],
        ),
        "GET /api/chat/{sid}/{task_id}/poll/": (f"{base}/api/chat/{chat['id']}/{chat['task_id']}/poll/", chat["auth"]),
    }
    latency = measured(sampler, http, urls, args.samples)
    return {
        "messages": messages.count_documents({"session_id": chat["id"]}),
        "fill_s": round(filled_s, 1),
        "cpu_while_measuring": latency.pop("cpu"),
        "latency": latency,
    }


def judge(report: dict) -> dict:
    return {**judge_growth(report["growth"]), **judge_rss(report)}
