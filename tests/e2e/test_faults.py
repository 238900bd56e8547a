"""Crash each part of a running stack with kill -9 while chat messages and session commands flow, let
`ocs up` restart it, and check the promises: every command answered 2xx is in the read models, every
accepted chat message has exactly one reply, and the read models equal a fresh rebuild from the event
store. The default run kills each part once under a small load; `-m slow` runs a longer, heavier soak."""

import json
import time

import pytest

from tests.chat_load import Load, kill_and_await_restart, pid_of, verify

# What kill -9 hits, found by its command line (each contains the data dir).
PARTS = {
    "kafka": "--only kafka",
    "mongodb": "secantusd-py",
    "projector": "run projector",
    "worker": "run worker",
    "relay": "run relay",
    "api": "run api",
}


def run_faults(faulty_stack, rounds: int, users: int, pause_s: float) -> dict:
    data_dir, base_url, key, chatbot = faulty_stack
    load = Load(base_url, key, chatbot, users).start()
    time.sleep(pause_s)
    for _ in range(rounds):
        for part, marker in PARTS.items():
            assert pid_of(data_dir, marker), f"{part} is not running"
            # ocs up notices within a second and starts it again; give the system time to heal under load.
            assert kill_and_await_restart(data_dir, marker)
            time.sleep(pause_s)
    load.finish()
    mongo_url = json.loads((data_dir / "stack.json").read_text())["mongo_url"]
    return verify(data_dir, base_url, key, load, mongo_url)


@pytest.mark.parametrize(
    "faulty_stack", [("--workers", "3", "--projectors", "2")], ids=["3 workers, 2 projectors"], indirect=True
)
def test_killed_replicas_of_a_scaled_stack_come_back_under_their_ids_and_lose_nothing(faulty_stack):
    """`ocs up --workers 3 --projectors 2`: a worker and a projector killed in turn (some replica of each) are
    restarted under their instance ids and take their partitions straight back."""
    data_dir, base_url, key, chatbot = faulty_stack
    load = Load(base_url, key, chatbot, 6, patient=True).start()
    time.sleep(2.0)
    for marker in (PARTS["worker"], PARTS["projector"]):
        assert kill_and_await_restart(data_dir, marker)
        time.sleep(3.0)
    load.finish()
    mongo_url = json.loads((data_dir / "stack.json").read_text())["mongo_url"]
    report = verify(data_dir, base_url, key, load, mongo_url)
    # Usually a couple of seconds; bounded by the groups' rebalance timeout (infra/kafka.py max_poll_interval_ms).
    assert report["messages_accepted"] > 0 and report["longest_wait_for_a_reply_s"] < 35, report


def test_killing_each_part_once_loses_and_doubles_nothing(faulty_stack):
    report = run_faults(faulty_stack, rounds=1, users=4, pause_s=2.0)
    assert report["messages_accepted"] > 0 and report["sessions_created"] > 0


@pytest.mark.slow
def test_soak_killing_each_part_three_times_under_heavier_load(faulty_stack):
    report = run_faults(faulty_stack, rounds=3, users=12, pause_s=4.0)
    assert report["messages_accepted"] > 100
