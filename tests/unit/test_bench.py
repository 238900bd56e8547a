"""The benchmark harness's arithmetic: percentiles, target verdicts, what bounded a run, MongoDB's counters over
the window, profile summaries and query plans (the load itself runs with `make bench`)."""

from bench.bounds import bounds
from bench.growth import plan_stages
from bench.mongo_ops import MongoOps
from bench.profile import summarise
from bench.report import judge_growth, judge_load
from bench.stats import percentile, summary


def latency(p50: float, p95: float) -> dict:
    return {"count": 100, "p50_ms": p50, "p95_ms": p95, "p99_ms": p95}


def load_report(rate: float, p50: float = 80, p95: float = 200, delay_p95: float = 90, errors: int = 0) -> dict:
    return {
        "parameters": {"users": 10, "poll_interval": 0.1},
        "machine": {"nproc": 2},
        "load": {
            "seconds": 60.0,
            "answered_messages": int(rate * 60),
            "answered_per_s": rate,
            "reply_latency": {"poll": latency(p50, p95)},
            "read_model_delay": {"upper_bound": {**latency(delay_p95 / 2, delay_p95)}},
            "request_failures": {"POST /api/chat/[sid]/message/": {"500": errors}} if errors else {},
            "flow_errors": {},
            "users": {"WidgetPollUser": 10, "WidgetStreamUser": 2},
        },
        "cpu": {
            "machine_busy_percent": 190.0,
            "ms_per_answered_message": {"secantusd-py": 10.0, "worker": 6.0, "api": 4.0, "load-generator": 5.0},
        },
    }


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 11)]
    assert percentile(values, 50) == 5.0
    assert percentile(values, 95) == 10.0
    assert percentile([], 50) is None
    assert summary([3.0, 1.0, 2.0], seconds=2) == {
        "count": 3, "per_s": 1.5, "p50_ms": 2.0, "p95_ms": 3.0, "p99_ms": 3.0, "max_ms": 3.0, "mean_ms": 2.0,
    }  # fmt: skip


def test_load_targets_pass_only_within_every_bound():
    passing = judge_load(load_report(rate=120))
    assert passing.pop("reply_latency_1_user")["pass"] is None  # a run of 10 users does not judge one user's target
    assert all(verdict["pass"] for verdict in passing.values())

    failing = judge_load(load_report(rate=50, p50=150, delay_p95=120, errors=1))
    assert failing["answered_100_per_s_no_errors"]["margin"] == "0.50x of 100/s, 1 errors"
    assert failing["reply_latency_10_users"]["margin"] == "p50 1.50x of 100 ms, p95 0.80x of 250 ms"
    assert not failing["command_to_read_model_p95"]["pass"]


def test_latency_is_not_judged_away_from_the_targets_load():
    report = load_report(rate=120)
    report["parameters"]["users"] = 60
    assert judge_load(report)["reply_latency_10_users"]["pass"] is None


def test_one_user_polling_every_20_ms_is_judged_on_its_median_alone():
    report = load_report(rate=20, p50=29)
    report["parameters"].update(users=1, poll_interval=0.02)
    judged = judge_load(report)
    assert judged["reply_latency_1_user"]["pass"] is True and judged["reply_latency_10_users"]["pass"] is None
    report = load_report(rate=20, p50=45)
    report["parameters"].update(users=1, poll_interval=0.02)
    assert judge_load(report)["reply_latency_1_user"]["margin"] == "p50 1.50x of 30 ms"


def growth(sizes: dict[int, float]) -> dict:
    return {"sizes": {str(size): {"latency": {"GET /api/sessions/": {"p50_ms": p50}}} for size, p50 in sizes.items()}}


def test_growth_is_flat_within_one_and_a_half_times_at_100k():
    assert judge_growth(growth({1000: 10, 100000: 14}))["flat_growth"]["pass"] is True
    assert judge_growth(growth({1000: 10, 100000: 16}))["flat_growth"]["pass"] is False
    # Short of 100k only a miss can be told.
    assert judge_growth(growth({1000: 10, 10000: 12}))["flat_growth"]["pass"] is None
    assert judge_growth(growth({1000: 10, 10000: 20}))["flat_growth"]["pass"] is False


def test_bounds_name_the_cpu_cost_the_rate_it_allows_and_the_costliest_work():
    report = load_report(rate=80)
    report["profile"] = {"secantusd-py": {"top_own_percent_of_working": [["Storage.update_matching (s.py:1)", 40.0]]}}
    report["mongodb_operations"] = {
        "commands_per_answered_message": 6.0,
        "namespaces": {
            "ocs.messages": {"getmore": {"count": 900, "server_ms": 9000.0}},
            "ocs.sessions": {"update": {"count": 300, "server_ms": 600.0}},
        },
    }

    found = bounds(report)

    assert found["cpu_ms_per_answered_message"] == {"stack": 20.0, "everything": 25.0}
    assert found["answered_per_s_these_cores_allow"] == 80.0
    assert found["cpu_saturated"] is True
    assert found["processes"][0] == {
        "process": "secantusd-py",
        "cpu_ms_per_message": 10.0,
        "hottest": [["Storage.update_matching (s.py:1)", 40.0]],
    }
    assert found["message_cycle_ms_by_littles_law"] == 150.0
    # A getmore's time is mostly waiting for new data: it is not work.
    assert found["mongodb"]["most_server_time"][0]["operation"] == "ocs.sessions update"
    assert len(found["summary"]) == 4


def test_mongodb_operations_are_the_counters_moved_over_the_window():
    ops = MongoOps("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1")  # never connects here
    zero = {"count": 0, "time": 0}
    ops.before = {"ocs.tasks": {"queries": {"count": 10, "time": 1000}, "update": zero}}
    ops.after = {
        "ocs.tasks": {"queries": {"count": 110, "time": 51000}, "update": zero},
        "ocs.sessions": {"update": {"count": 20, "time": 30000}},
    }

    moved = ops.summary(answered_messages=50)

    assert moved["namespaces"] == {
        "ocs.tasks": {"queries": {"count": 100, "server_ms": 50.0}},
        "ocs.sessions": {"update": {"count": 20, "server_ms": 30.0}},
    }
    assert (moved["commands"], moved["commands_per_answered_message"]) == (120, 2.4)
    assert moved["server_ms_per_answered_message"] == 1.6


def test_profiles_count_waiting_threads_apart_from_working_ones():
    collapsed = "\n".join(
        [
            "run (app.py:1);handle (app.py:5);encode (json.py:9) 30",
            "run (app.py:1);handle (app.py:5) 10",
            "run (app.py:1);sleep (time.py:1) 60",
        ]
    )

    found = summarise(collapsed, seconds=2)

    assert (found["samples"], found["working_samples"]) == (100, 40)
    assert found["top_own_percent_of_working"][0] == ("encode (json.py:9)", 75.0)
    assert ("handle (app.py)", 100.0) in found["top_inclusive_percent_of_working"]


def test_query_plans_read_from_the_top_stage_down():
    plan = {"stage": "SORT", "inputStage": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN", "indexName": "a_1"}}}
    assert plan_stages(plan) == "SORT <- FETCH <- IXSCAN a_1"
