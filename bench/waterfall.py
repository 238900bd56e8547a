"""The latency waterfall of issue 20: where a polled reply's time goes, hop by hop.

Each answered message of the measured window is timed at every instant of its way, each from the cheapest source
that saw it happen (all wall-clock seconds, one clock for every process of the machine):

- sent, accepted, seen: the widget user (its POST went out, its 202 came back, the poll that first saw the reply
  came back);
- committed, reply committed: the events' `occurred_at` (taken when the aggregate triggers the event, just before
  the event store's commit);
- published, reply published: the broker records' timestamps (set by the relay's producer when handed the record;
  milliseconds);
- consumed, LLM done: the worker's `ocs.hops` line (its poll returned the record; the provider's reply ended);
- projector consumed, projected: the projector's `ocs.hops` line for the tasks collection (its poll returned the
  reply's record; MongoDB acknowledged the write the task poll reads).

The hops are the differences between consecutive instants of the reply's causal chain; `accepted` is off that chain
(the relay may publish before the client has its 202), so it is timed from `sent` on its own.
"""

import json
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

from bench.stats import percentile, summary
from bench.topics import every_record
from schemas.events import CHAT_SESSION_REPLY_RECORDED, CHAT_SESSION_USER_MESSAGE_SUBMITTED, TOPICS
from schemas.instants import parse_instant
from schemas.read_models import TASKS

CHAIN = (
    "sent",
    "committed",
    "published",
    "consumed",
    "llm_done",
    "reply_committed",
    "reply_published",
    "projector_consumed",
    "projected",
    "seen",
)
HOPS_LOGGER = "ocs.hops"


def hops(instants: dict) -> dict[str, float]:
    """One message's hops in milliseconds, by name (`from → to`), each between consecutive instants of the chain it
    has, plus `sent → accepted` and end to end (`sent → seen`)."""
    chain = [name for name in CHAIN if instants.get(name) is not None]
    out = {f"{a} → {b}": (instants[b] - instants[a]) * 1000 for a, b in pairwise(chain)}
    for end in ("accepted", "seen"):
        if instants.get(end) is not None:
            out[f"sent → {end}"] = (instants[end] - instants["sent"]) * 1000
    return out


def summarized(timed: list[dict]) -> dict:
    """p50/p95 (and the rest of `bench.stats.summary`) of each hop over messages timed at every instant; how many
    messages were timed and how many lacked an instant."""
    complete = [instants for instants in timed if all(instants.get(name) is not None for name in (*CHAIN, "accepted"))]
    by_hop: dict[str, list[float]] = {}
    for instants in complete:
        for name, ms in hops(instants).items():
            by_hop.setdefault(name, []).append(ms)
    return {
        "messages": len(timed),
        "timed_at_every_instant": len(complete),
        "hops": {name: summary(values) for name, values in by_hop.items()},
    }


def joined(client: list[dict], session_records: Iterable[tuple[dict, float]], hop_lines: Iterable[dict]) -> list[dict]:
    """Each client message's instants ({task_id, sent, accepted, seen}), completed from the session topic's records
    (envelope, timestamp in s) and the `ocs.hops` lines' fields."""
    by_task = {message["task_id"]: dict(message) for message in client}
    reply_tasks = {}  # a reply event's id -> its task id, to place the projector's lines
    for envelope, published in session_records:
        task = by_task.get(envelope["data"].get("task_id"))
        if task is None:
            continue
        prefix = {CHAT_SESSION_USER_MESSAGE_SUBMITTED: "", CHAT_SESSION_REPLY_RECORDED: "reply_"}.get(envelope["type"])
        if prefix is None or f"{prefix}committed" in task:
            continue  # another event of the task, or a redelivered copy
        task[f"{prefix}committed"] = parse_instant(envelope["occurred_at"]).timestamp()
        task[f"{prefix}published"] = published
        if prefix:
            reply_tasks[envelope["event_id"]] = task
    for line in hop_lines:
        task = by_task.get(line.get("task_id"))
        if task is not None and line.get("consumed_at") is not None:
            task.setdefault("consumed", line["consumed_at"])
            task.setdefault("llm_done", line["llm_done_at"])
        for event_id in line["event_ids"] if line.get("collection") == TASKS else ():
            if event_id in reply_tasks:
                reply_tasks[event_id].setdefault("projector_consumed", line["consumed_at"])
                reply_tasks[event_id].setdefault("projected", line["projected_at"])
    return list(by_task.values())


def session_records(bootstrap: str) -> Iterable[tuple[dict, float]]:
    """The session topic's envelopes with their records' timestamps, in seconds."""
    for record in every_record(bootstrap, TOPICS["ChatSession"]):
        yield json.loads(record.value), record.timestamp / 1000


def hop_lines(logs: Path) -> Iterable[dict]:
    """The `hops` fields of every `ocs.hops` line in the stack's process logs."""
    for path in sorted(logs.glob("*.log")):
        with open(path, errors="replace") as file:
            for line in file:
                if HOPS_LOGGER not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("logger") == HOPS_LOGGER:
                    yield entry["hops"]


def projector_loops(hop_lines: Iterable[dict], window: tuple[float, float]) -> dict:
    """The projector's loop, from its lines, for the chunks it polled in the window: the time from one chunk's poll to
    the next's, from a poll to the chunk's last acknowledged write, from that write to the next poll (what the loop
    does besides writing the read models, and the poll), and the events a chunk carried."""
    chunks: dict[float, dict] = {}
    for line in hop_lines:
        if "projected_at" in line and window[0] <= line["consumed_at"] <= window[1]:
            chunk = chunks.setdefault(line["consumed_at"], {"last_write": 0.0, "events": set()})
            chunk["last_write"] = max(chunk["last_write"], line["projected_at"])
            chunk["events"].update(line["event_ids"])
    polls = sorted(chunks)
    events = sorted(len(chunks[poll]["events"]) for poll in polls)
    return {
        "chunks": len(polls),
        "loop": summary([(b - a) * 1000 for a, b in pairwise(polls)]),
        "poll_to_last_write": summary([(chunks[poll]["last_write"] - poll) * 1000 for poll in polls]),
        "last_write_to_next_poll": summary([(b - chunks[a]["last_write"]) * 1000 for a, b in pairwise(polls)]),
        "events_per_chunk": {"p50": percentile(events, 50), "p95": percentile(events, 95)},
    }


def measure(client: list[dict], bootstrap: str, logs: Path) -> dict:
    """The waterfall of the client's polled replies, read from the running stack's broker and its logs directory, and
    the projector's loop meanwhile."""
    lines = list(hop_lines(logs))
    window = (min((m["sent"] for m in client), default=0.0), max((m["seen"] for m in client), default=0.0))
    return {
        **summarized(joined(client, session_records(bootstrap), lines)),
        "projector_loop": projector_loops(lines, window),
    }
