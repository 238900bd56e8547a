"""What a heartbeat says of a component: down when it stops beating, stuck when it beats but cannot get on."""

from infra.heartbeat import STALE_AFTER_S, STUCK_AFTER_S, status_of

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
