"""The streaming benchmark of issue 17: the reply the fake LLM streams, when the fake wrote each reply's first word,
what the clients saw of it, and the issue's two targets.

The fake runs in the harness's process and the users in the load generator's; both read `time.monotonic()`, which
on Linux is the machine's CLOCK_MONOTONIC, one clock for every process (the report says which clock it was), so
the two processes' times can be subtracted. Every user message carries an id of its own (32 hex digits) that the
fake's request holds too: that is how a reply's first word at the fake is paired with its first delta at a client.

Where a widget's first delta spends that time is split at the worker's first delta record on the reply-deltas topic:
the record's timestamp is the worker's wall clock (ms) when it sent the record, and the fake notes its wall clock too.
"""

import json
import re
import threading
import time

from bench.report import verdict
from bench.stats import summary
from bench.topics import every_record
from schemas.reply_deltas import REPLY_DELTAS_TOPIC

MESSAGE_ID = re.compile(r"\b[0-9a-f]{32}\b")
FILLER_WORD = " more"
FIRST_DELTA_P50_LIMIT_MS = 50
RATE_COST_LIMIT = 0.10
TARGET_USERS = 10


def message_id(text: str | None) -> str | None:
    found = MESSAGE_ID.search(text or "")
    return found.group() if found else None


def padded_echo(tokens: int):
    """The fake's reply: the echo of the user's message, then filler words up to `tokens` words in all (the fake
    streams one word per chunk)."""

    def reply(request: dict) -> str:
        echo = f"echo: {request['messages'][-1]['content']}"
        return echo + FILLER_WORD * max(0, tokens - len(echo.split()))

    return reply


class FirstTokens:
    """The fake's `on_first_token`: when the first word of the reply to each user message was written, by the
    message's id (the first time only: a retried call is the same reply to its user)."""

    def __init__(self):
        self.at: dict[str, float] = {}
        self.wall_at: dict[str, float] = {}  # the same moments on the wall clock, for the delta records' timestamps
        self.lock = threading.Lock()

    def __call__(self, request: dict, monotonic_s: float) -> None:
        wall_s = time.time()
        found = message_id(request["messages"][-1].get("content"))
        if found:
            with self.lock:
                self.at.setdefault(found, monotonic_s)
                self.wall_at.setdefault(found, wall_s)


def first_delta_records(bootstrap: str) -> dict[str, int]:
    """When the worker sent each reply's first delta record (its timestamp, wall clock ms), by task id: the whole
    topic, read once the load is over."""
    first = {}
    for record in every_record(bootstrap, REPLY_DELTAS_TOPIC):
        delta = json.loads(record.value)
        if delta["offset"] == 0:
            first.setdefault(delta["task_id"], record.timestamp)
    return first


def clock() -> str:
    return time.get_clock_info("monotonic").implementation


def measured(replies: list[dict], first_tokens: FirstTokens, delta_records: dict[str, int], seconds: float) -> dict:
    """Per kind of client (and `all`), from the replies the load generator saw in the window
    ({kind, id, task_id, sent, first_delta, done}, monotonic seconds): the first delta after the fake wrote the first
    word, the first delta after the message was sent, and the whole reply (sent to its end); for replies that
    travelled as delta records, the first word's time to the worker's first record. First deltas are paired only
    for messages sent on a stream that was open (`stream_open_at_send`, false for a session's first message when
    its stream had no event yet): they measure delivery, not a stream's opening."""
    kinds = sorted({reply["kind"] for reply in replies})
    out = {
        kind: measured_kind([r for r in replies if r["kind"] == kind], first_tokens, delta_records, seconds)
        for kind in kinds
    }
    if len(kinds) > 1:
        out["all"] = measured_kind(replies, first_tokens, delta_records, seconds)
    return out


def measured_kind(
    replies: list[dict], first_tokens: FirstTokens, delta_records: dict[str, int], seconds: float
) -> dict:
    on_open_streams = [r for r in replies if r.get("stream_open_at_send", True)]
    paired = [r for r in on_open_streams if r["first_delta"] is not None and r["id"] in first_tokens.at]
    published = [r for r in paired if r["task_id"] in delta_records]
    out = {
        "first_delta_after_first_token": summary(
            [(r["first_delta"] - first_tokens.at[r["id"]]) * 1000 for r in paired]
        ),
        "first_delta_after_send": summary([(r["first_delta"] - r["sent"]) * 1000 for r in paired]),
        "reply": summary([(r["done"] - r["sent"]) * 1000 for r in replies], seconds),
        "sent_before_the_stream_opened": len(replies) - len(on_open_streams),
        "unpaired": len(on_open_streams) - len(paired),
    }
    if published:
        out["first_delta_record_after_first_token"] = summary(
            [delta_records[r["task_id"]] - first_tokens.wall_at[r["id"]] * 1000 for r in published]
        )
    return out


def judge(comparison: dict) -> dict:
    """The targets of issue 17 on a comparison's runs ({"baseline": run, "streaming": run}, each with `users`,
    `answered_per_s` and, for the streaming run, `streaming.by_client` from `measured`)."""
    out = {}
    run = comparison["streaming"]
    by_client = run["streaming"]["by_client"]
    kinds = {kind: m["first_delta_after_first_token"] for kind, m in by_client.items() if kind != "all"}
    if kinds and all(latency["count"] for latency in kinds.values()):
        at_target_load = run["users"] == TARGET_USERS
        worst = max(kinds, key=lambda kind: kinds[kind]["p50_ms"])
        p50 = kinds[worst]["p50_ms"]
        out["first_delta_within_50_ms_p50"] = verdict(
            p50 <= FIRST_DELTA_P50_LIMIT_MS if at_target_load else None,
            {kind: {"p50_ms": lat["p50_ms"], "p95_ms": lat["p95_ms"]} for kind, lat in kinds.items()},
            "first delta at the client within 50 ms (p50) of the provider's first token, at 10 users",
            f"p50 {p50 / FIRST_DELTA_P50_LIMIT_MS:.2f}x of 50 ms ({worst})"
            + ("" if at_target_load else f" (not judged: {run['users']} users, not 10)"),
        )
    baseline = comparison.get("baseline")
    if baseline and baseline["answered_per_s"]:
        cost = 1 - run["answered_per_s"] / baseline["answered_per_s"]
        out["streaming_costs_at_most_10_percent"] = verdict(
            cost <= RATE_COST_LIMIT,
            {"streaming_per_s": run["answered_per_s"], "non_streaming_per_s": baseline["answered_per_s"]},
            "answered messages/s streaming at most 10 % below the non-streaming run's",
            f"answered/s streaming vs not: {-cost * 100:+.1f} % (limit -10 %)",
        )
    return out
