"""What a heartbeat says of a component: down when it stops beating, stuck when it beats but cannot get on."""

from infra.health import PipelineHealth, PipelineReport
from infra.heartbeat import FORGOTTEN_AFTER_S, STALE_AFTER_S, STUCK_AFTER_S, status_of

NOW = 1_000_000.0


def test_a_component_that_stopped_beating_is_down():
    assert status_of(None, NOW, 0)[0] == "down"
    assert status_of({"at": NOW - STALE_AFTER_S - 1}, NOW, 0)[0] == "down"


def test_a_component_beating_its_progress_is_ok():
    assert status_of({"at": NOW - 1, "applied": 7, "waiting_since": None}, NOW, 0) == ("ok", None)
    assert status_of({"at": NOW, "waiting_since": NOW - 2}, NOW, 0) == ("ok", None)


def test_failing_or_holding_work_for_long_is_stuck():
    assert status_of({"at": NOW, "failing_since": NOW - STUCK_AFTER_S - 1}, NOW, 0)[0] == "stuck"
    status, why = status_of({"at": NOW, "waiting_since": NOW - STUCK_AFTER_S - 5}, NOW, 0)
    assert status == "stuck" and why.startswith("holding work it cannot finish for")


def test_a_relay_behind_the_log_without_progress_is_stuck_and_one_caught_up_is_not():
    behind = {"at": NOW, "position": 10, "progressed_at": NOW - STUCK_AFTER_S - 1}
    assert status_of(behind, NOW, 12) == ("stuck", f"at log position 10 of 12 for {STUCK_AFTER_S + 1:.0f} s")
    assert status_of(behind, NOW, 10) == ("ok", None)
    assert status_of({**behind, "progressed_at": NOW - 1}, NOW, 12) == ("ok", None)


def replica(instance: str, at: float, partitions=()) -> dict:
    return {"component": "worker", "instance": instance, "at": at, "partitions": list(partitions)}


def worker_status(*beats) -> tuple[str, PipelineReport]:
    report = PipelineReport()
    return PipelineHealth.component_status(report, "worker", list(beats), NOW, 0), report


def test_every_replica_is_reported_and_the_component_is_up_while_one_is():
    status, report = worker_status(replica("w1", NOW - 1, ["t-0"]), replica("w2", NOW - 1, ["t-1"]))
    assert status == "ok" and report.replicas == {"worker@w1": "ok", "worker@w2": "ok"} and not report.problems
    status, report = worker_status(replica("w1", NOW - STALE_AFTER_S - 1), replica("w2", NOW - STALE_AFTER_S - 5))
    assert status == "down" and report.problems == [f"worker down: no heartbeat for {STALE_AFTER_S:.0f} s"]


def test_a_dead_replica_is_a_problem_only_while_no_live_one_holds_its_partitions():
    dead = replica("w1", NOW - STUCK_AFTER_S - 5, ["t-0", "t-1"])
    # Its group is still rebalancing: not yet a problem.
    status, report = worker_status(replica("w1", NOW - STALE_AFTER_S - 1, ["t-0"]), replica("w2", NOW, ["t-1"]))
    assert status == "ok" and report.replicas["worker@w1"] == "down" and not report.problems
    # Long enough that its partitions should have moved, and one has not.
    status, report = worker_status(dead, replica("w2", NOW, ["t-1"]))
    assert status == "stuck"
    assert report.problems == [f"worker@w1 down for {STUCK_AFTER_S + 5:.0f} s: no live replica took its partitions t-0"]
    # Handed on: the dead replica is listed, and is no problem.
    status, report = worker_status(dead, replica("w2", NOW, ["t-0", "t-1"]))
    assert status == "ok" and report.replicas == {"worker@w1": "down", "worker@w2": "ok"} and not report.problems


def test_a_replica_gone_for_long_is_left_out():
    status, report = worker_status(replica("w1", NOW - FORGOTTEN_AFTER_S - 1, ["t-0"]), replica("w2", NOW, ["t-0"]))
    assert status == "ok" and report.replicas == {"worker@w2": "ok"}
