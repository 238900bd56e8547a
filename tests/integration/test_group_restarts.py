"""A replica killed and restarted under its instance id takes its partitions back at once, however often it
happens: its consumer group never waits out a rebalance timeout, and never stalls for good. Members are real
processes on the local Kafka-protocol server, killed with SIGKILL as a crash would. The default run restarts a
member 8 times (about one restart in ten stalled before `infra.kafka.Poller` took up every join); `-m slow`, 40."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.kafka import ensure_topics
from infra.wiring.local_servers import LocalKafka

PARTITIONS = 8
MEMBERS = 3


class Group:
    def __init__(self, data_dir: Path, bootstrap: str):
        self.data_dir, self.bootstrap = data_dir, bootstrap
        self.members: dict[int, subprocess.Popen] = {}

    def start(self, member: int) -> None:
        self.held_file(member).unlink(missing_ok=True)
        self.members[member] = subprocess.Popen(
            [sys.executable, "-m", "tests.group_member", self.bootstrap, "g", "t", str(self.held_file(member))],
            env={**os.environ, "OCS_INSTANCE_ID": f"replica-{member}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self, member: int) -> None:
        self.members[member].send_signal(signal.SIGKILL)
        self.members[member].wait()
        self.held_file(member).unlink(missing_ok=True)

    def held_file(self, member: int) -> Path:
        return self.data_dir / f"held-{member}.json"

    def held(self) -> list[list[str]]:
        held = []
        for member in self.members:
            try:
                held.append(json.loads(self.held_file(member).read_text()))
            except (FileNotFoundError, json.JSONDecodeError):
                held.append([])
        return held

    def seconds_until_settled(self, stable_s: float = 1.5, timeout_s: float = 60) -> float | None:
        """How long until every member holds partitions and together they hold each one once, for `stable_s`."""
        started, settled_at = time.monotonic(), None
        while time.monotonic() - started < timeout_s:
            held = self.held()
            every = sorted(p for partitions in held for p in partitions)
            if all(held) and len(every) == len(set(every)) == PARTITIONS:
                settled_at = settled_at or time.monotonic()
                if time.monotonic() - settled_at >= stable_s:
                    return round(settled_at - started, 2)
            else:
                settled_at = None
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        for process in self.members.values():
            process.kill()
            process.wait()


def restart_rounds(tmp_path: Path, rounds: int) -> list[float | None]:
    kafka = LocalKafka(tmp_path / "kafka").start()
    group = Group(tmp_path, kafka.bootstrap)
    try:
        ensure_topics(kafka.bootstrap, ["t"], PARTITIONS)
        for member in range(MEMBERS):
            group.start(member)
        assert group.seconds_until_settled() is not None
        waits = []
        for n in range(rounds):
            group.kill(n % MEMBERS)
            time.sleep(1.0)  # `ocs up` restarts a dead replica within about a second
            group.start(n % MEMBERS)
            waits.append(group.seconds_until_settled())
        return waits
    finally:
        group.stop()
        kafka.stop()


def test_replicas_restarted_under_their_ids_take_their_partitions_back_at_once(tmp_path):
    waits = restart_rounds(tmp_path, 8)
    assert all(wait is not None and wait < 10 for wait in waits), waits


@pytest.mark.slow
def test_soak_forty_restarts_of_replicas_under_their_ids(tmp_path):
    waits = restart_rounds(tmp_path, 40)
    assert all(wait is not None and wait < 10 for wait in waits), waits
