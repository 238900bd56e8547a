"""The streaming benchmark of issue 17: the reply the fake LLM streams, when the fake wrote each reply's first word,
what the clients saw of it, and the issue's two targets.

The fake runs in the harness's process and the users in the load generator's; both read `time.monotonic()`, which
on Linux is the machine's CLOCK_MONOTONIC, one clock for every process (the report says which clock it was), so
the two processes' times can be subtracted. Every user message carries an id of its own (32 hex digits) that the
fake's request holds too: that is how a reply's first word at the fake is paired with its first delta at a client.
"""

import re
import threading
import time

from bench.report import verdict
from bench.stats import summary

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
        self.lock = threading.Lock()

    def __call__(self, request: dict, monotonic_s: float) -> None:
        found = message_id(request["messages"][-1].get("content"))
        if found:
            with self.lock:
                self.at.setdefault(found, monotonic_s)


def clock() -> str:
    return time.get_clock_info("monotonic").implementation


def measured(replies: list[dict], first_tokens: dict[str, float], seconds: float) -> dict:
    """Per kind of client (and `all`), from the replies the load generator saw in the window
    ({kind, id, sent, first_delta, done}, monotonic seconds): the first delta after the fake wrote the first word,
    the first delta after the message was sent, and the whole reply (sent to its end)."""
    kinds = sorted({reply["kind"] for reply in replies})
    out = {kind: measured_kind([r for r in replies if r["kind"] == kind], first_tokens, seconds) for kind in kinds}
    if len(kinds) > 1:
        out["all"] = measured_kind(replies, first_tokens, seconds)
    return out


def measured_kind(replies: list[dict], first_tokens: dict[str, float], seconds: float) -> dict:
    paired = [r for r in replies if r["first_delta"] is not None and r["id"] in first_tokens]
    return {
        "first_delta_after_first_token": summary([(r["first_delta"] - first_tokens[r["id"]]) * 1000 for r in paired]),
        "first_delta_after_send": summary([(r["first_delta"] - r["sent"]) * 1000 for r in paired]),
        "reply": summary([(r["done"] - r["sent"]) * 1000 for r in replies], seconds),
        "unpaired": len(replies) - len(paired),
    }


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
