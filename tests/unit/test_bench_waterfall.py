"""The waterfall's arithmetic (bench/waterfall.py): a message's instants joined from the client, the session topic and
the `ocs.hops` lines, its hops, their percentiles, and the `ocs.hops` lines as the stack writes them (the load
itself runs with `make bench ARGS=--waterfall`)."""

import json
import logging

import pytest

from bench.summary import waterfall_rows
from bench.waterfall import CHAIN, hop_lines, hops, joined, projector_loops, summarized
from infra import hops as hop_log
from infra.logs import JsonFormatter
from schemas.events import CHAT_SESSION_REPLY_RECORDED, CHAT_SESSION_USER_MESSAGE_SUBMITTED

T0 = 1_700_000_000.0


def ms(value: float):
    """A duration in ms as computed from wall-clock instants, whose float spacing is ~0.2 µs."""
    return pytest.approx(value, abs=1e-3)


def instants(**offsets_ms) -> dict:
    return {name: T0 + offset / 1000 for name, offset in offsets_ms.items()}


def every_instant(step_ms: float = 10) -> dict:
    return {**instants(**{name: i * step_ms for i, name in enumerate(CHAIN)}), "accepted": T0 + 0.005}


def test_hops_are_the_differences_between_consecutive_instants_of_the_chain():
    timed = hops(every_instant())

    assert timed["sent → committed"] == ms(10)
    assert timed["projected → seen"] == ms(10)
    assert timed["sent → accepted"] == ms(5)  # off the chain: the relay may publish before the 202
    assert timed["sent → seen"] == ms(10 * (len(CHAIN) - 1))
    assert len(timed) == len(CHAIN) - 1 + 2


def test_a_missing_instant_joins_its_neighbours_into_one_hop():
    timed = hops(instants(sent=0, committed=3, consumed=20, seen=50))

    assert timed["committed → consumed"] == ms(17)
    assert "sent → accepted" not in timed


def test_percentiles_are_taken_over_messages_timed_at_every_instant_only():
    fast, slow = every_instant(10), every_instant(20)
    partial = instants(sent=0, seen=1000)

    result = summarized([fast, slow, partial])

    assert result["messages"] == 3 and result["timed_at_every_instant"] == 2
    assert result["hops"]["sent → committed"]["p50_ms"] == 10.0
    assert result["hops"]["sent → committed"]["p95_ms"] == 20.0
    assert result["hops"]["sent → seen"]["count"] == 2


def envelope(event_type: str, task_id: str, event_id: str, occurred_at: str) -> dict:
    return {"type": event_type, "event_id": event_id, "occurred_at": occurred_at, "data": {"task_id": task_id}}


def test_a_message_is_joined_from_its_events_records_and_the_hops_lines():
    client = [{"task_id": "t1", "sent": 100.0, "accepted": 100.006, "seen": 100.2}]
    records = [
        (envelope(CHAT_SESSION_USER_MESSAGE_SUBMITTED, "t1", "e1", "1970-01-01T00:01:40.004000Z"), 100.010),
        (envelope(CHAT_SESSION_USER_MESSAGE_SUBMITTED, "t1", "e1", "1970-01-01T00:01:40.004000Z"), 100.900),  # again
        (envelope(CHAT_SESSION_REPLY_RECORDED, "t1", "e2", "1970-01-01T00:01:40.050000Z"), 100.060),
        (envelope(CHAT_SESSION_REPLY_RECORDED, "other", "e3", "1970-01-01T00:01:40.050000Z"), 100.060),
    ]
    lines = [
        {"task_id": "t1", "consumed_at": 100.020, "llm_done_at": 100.040},
        {"task_id": "t1", "consumed_at": 100.500, "llm_done_at": 100.600},  # a redelivery, skipped as answered
        {"consumed_at": 100.063, "projected_at": 100.065, "collection": "messages", "event_ids": ["e1", "e2", "e3"]},
        {"consumed_at": 100.063, "projected_at": 100.070, "collection": "tasks", "event_ids": ["e1", "e2"]},  # polled
    ]

    [message] = joined(client, records, lines)

    assert message == {
        "task_id": "t1",
        "sent": 100.0,
        "accepted": 100.006,
        "committed": pytest.approx(100.004),
        "published": 100.010,
        "consumed": 100.020,
        "llm_done": 100.040,
        "reply_committed": pytest.approx(100.050),
        "reply_published": 100.060,
        "projector_consumed": 100.063,
        "projected": 100.070,
        "seen": 100.2,
    }


def test_a_reply_within_a_request_has_no_consumed_instant_and_is_left_out():
    client = [{"task_id": "t1", "sent": 1.0, "accepted": 1.1, "seen": 1.2}]

    [message] = joined(client, [], [{"task_id": "t1", "consumed_at": None, "llm_done_at": 1.05}])

    assert "consumed" not in message and "llm_done" not in message


def test_the_stacks_hops_lines_are_read_back_from_its_logs(tmp_path, caplog):
    handler = logging.FileHandler(tmp_path / "worker.log")
    handler.setFormatter(JsonFormatter())
    hop_log.hops_log.addHandler(handler)
    with caplog.at_level(logging.INFO, logger="ocs.hops"):
        hop_log.log_projected("tasks", ["e0"])  # a rebuild's: no consumer took it, no line
    token = hop_log.CONSUMED_AT.set(10.5)
    try:
        with caplog.at_level(logging.INFO, logger="ocs.hops"):
            hop_log.log_reply("t1", 11.0)
            hop_log.log_projected("tasks", ["e1", "e2"])
    finally:
        hop_log.CONSUMED_AT.reset(token)
        hop_log.hops_log.removeHandler(handler)
        handler.close()
    (tmp_path / "api.log").write_text('not json ocs.hops\n{"logger": "ocs.access", "message": "GET /"}\n')

    lines = list(hop_lines(tmp_path))

    assert lines[0] == {"task_id": "t1", "consumed_at": 10.5, "llm_done_at": 11.0}
    assert (
        lines[1]["event_ids"] == ["e1", "e2"] and lines[1]["collection"] == "tasks" and lines[1]["consumed_at"] == 10.5
    )
    assert isinstance(lines[1]["projected_at"], float)
    assert len(lines) == 2
    assert json.loads((tmp_path / "worker.log").read_text().splitlines()[0])["logger"] == "ocs.hops"


def test_the_readme_table_has_a_row_per_hop_and_a_column_per_load():
    run = {"answered_per_s": 9.1, "machine_busy_percent": 50, "foreign_cpu_percent": 1, **summarized([every_instant()])}
    report = {
        "waterfall": {
            "1 users": {**run, "users": 1, "poll_interval_s": 0.02},
            "10 users": {**run, "users": 10, "poll_interval_s": 0.1},
        }
    }

    rows = waterfall_rows("waterfall", report)

    assert "| 1 user(s) polling every 0.02 s | 10 user(s) polling every 0.1 s |" in rows[2]
    assert "| sent → committed | 10.0/10.0 | 10.0/10.0 |" in rows
    assert sum(row.startswith("| ") and "→" in row for row in rows) == len(run["hops"])


def test_the_projectors_loop_is_timed_from_poll_to_poll_and_split_at_its_last_write():
    def line(polled, written, collection, *ids):
        return {"consumed_at": polled, "projected_at": written, "collection": collection, "event_ids": list(ids)}

    lines = [
        {"task_id": "t1", "consumed_at": 9.99, "llm_done_at": 10.0},  # the worker's: not the projector's loop
        line(5.0, 5.01, "tasks", "e0"),  # before the window
        line(10.0, 10.01, "messages", "e1", "e2"),
        line(10.0, 10.03, "tasks", "e2"),
        line(10.05, 10.06, "tasks", "e3"),
        line(10.12, 10.13, "tasks", "e4"),
    ]

    loops = projector_loops(lines, (9.0, 11.0))

    assert loops["chunks"] == 3
    assert loops["loop"]["p50_ms"] == 50.0 and loops["loop"]["max_ms"] == 70.0
    assert loops["poll_to_last_write"]["max_ms"] == 30.0
    assert loops["last_write_to_next_poll"]["p50_ms"] == 20.0 and loops["last_write_to_next_poll"]["max_ms"] == 60.0
    assert loops["events_per_chunk"] == {"p50": 1, "p95": 2}
