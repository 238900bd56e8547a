"""The usage read model's counting and the usage report's arithmetic, as pure functions: what each event adds to
which counters and quarter hours, windows and buckets in a timezone (DST included), the bucket bound,
cursor pages over (group, bucket) rows, and cost."""

from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from projectors.projections.usage import Counters, slot_of
from query_api.queries.pagination import PageRequest, encode_cursor
from query_api.queries.usage import LISTING, PriceTable, Totals, grouped_page, usage_window
from schemas import events
from schemas.errors import ApiError
from schemas.events import PAYLOAD_SCHEMAS
from schemas.read_models import USAGE_BY_CHATBOT, USAGE_BY_PARTICIPANT, usage_model_field

SESSION = {
    "experiment_id": "bot",
    "participant_id": "jane",
    "platform": None,
    "created_at": "2026-07-01T09:05:00.000000Z",
}
NOW = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)


def envelope(event_type: str, version: int, data: dict, occurred_at: str = "2026-07-01T10:20:00.000000Z") -> dict:
    return {
        "type": event_type,
        "team": "acme",
        "aggregate_id": "s1",
        "aggregate_version": version,
        "occurred_at": occurred_at,
        "data": PAYLOAD_SCHEMAS[event_type].dump(data),
    }


def message(role: str, created_at: str) -> dict:
    return {
        "id": f"m-{created_at}",
        "seq": 0,
        "created_at": created_at,
        "role": role,
        "content": "x",
        "metadata": {},
        "tags": [],
        "attachments": [],
    }


def counted(*envs: dict) -> dict[str, dict]:
    """Counter document id -> its increments, for these events of session s1 (not engaged before them)."""
    counters = Counters()
    engaged = False
    for env in envs:
        engaged = counters.count(env, PAYLOAD_SCHEMAS[env["type"]].load(env["data"]), SESSION, engaged)
    return {doc_id: dict(added) for doc_id, added in counters.added.items()}


def test_quarter_hours_of_utc_days_and_model_names_as_field_names():
    assert slot_of("2026-07-01T10:29:59.999999Z") == ("2026-07-01", 41)
    assert slot_of("2026-07-01T01:30:00+02:00") == ("2026-06-30", 94)
    assert usage_model_field("gpt-4.1-mini") == "gpt-4%2E1-mini"
    assert usage_model_field("$weird/model") == "%24weird%2Fmodel"


def test_each_counted_event_adds_to_its_quarter_hour_per_chatbot_and_per_participant():
    by_chatbot, by_participant = "acme|2026-07-01|bot|api", "acme|2026-07-01|bot|api|jane"
    # A history's messages count in their own quarter hours, added up; system messages count as neither. The first
    # human message engages the session, which counts in the quarter hour it was created in.
    appended = envelope(
        events.CHAT_SESSION_MESSAGES_APPENDED,
        2,
        {
            "messages": [
                message("user", "2026-07-01T10:20:00.000000Z"),
                message("assistant", "2026-07-01T10:21:00.000000Z"),
                message("system", "2026-07-01T10:22:00.000000Z"),
                message("user", "2026-07-01T10:31:00.000000Z"),
                message("user", "2026-07-01T10:32:00.000000Z"),
            ]
        },
    )
    expected = {"q.41.human": 1, "q.41.ai": 1, "q.42.human": 2, "q.36.sessions": 1}
    assert counted(appended) == {by_chatbot: expected, by_participant: expected}
    counters = Counters()
    assert counters.count(appended, PAYLOAD_SCHEMAS[appended["type"]].load(appended["data"]), SESSION, True) is True
    assert "q.36.sessions" not in counters.added[by_chatbot]  # engaged before: counted already
    # The team's API channel names no platform: its sessions count under `api`.
    assert counters.placed[by_participant] == {
        "team": "acme",
        "day": "2026-07-01",
        "chatbot": "bot",
        "platform": "api",
        "level": USAGE_BY_PARTICIPANT,
        "participant": "jane",
    }
    assert counters.placed[by_chatbot]["level"] == USAGE_BY_CHATBOT and "participant" not in counters.placed[by_chatbot]


def test_a_session_the_participant_never_spoke_in_is_not_counted():
    reply = envelope(events.CHAT_SESSION_BOT_MESSAGE_SENT, 2, bot_message())
    assert counted(reply) == {
        "acme|2026-07-01|bot|api": {"q.41.ai": 1},
        "acme|2026-07-01|bot|api|jane": {"q.41.ai": 1},
    }
    # A trigger's message written from a prompt counts its tokens as a reply does.
    tokens = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    written = envelope(events.CHAT_SESSION_BOT_MESSAGE_SENT, 2, {**bot_message(), "usage": tokens, "model": "m"})
    assert counted(written)["acme|2026-07-01|bot|api"] == {
        "q.41.ai": 1,
        "q.41.prompt": 5,
        "q.41.completion": 2,
        "q.41.total": 7,
        "q.41.models.m.prompt": 5,
        "q.41.models.m.completion": 2,
    }


def test_a_reply_counts_its_tokens_in_total_and_per_model_when_the_model_is_known():
    reply = {
        "task_id": "t",
        "message": message("assistant", "2026-07-01T10:20:00.000000Z"),
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 12},
        "model": "gpt-4.1",
    }
    doc = "acme|2026-07-01|bot|api"
    assert counted(envelope(events.CHAT_SESSION_REPLY_RECORDED, 3, reply))[doc] == {
        "q.41.ai": 1,
        "q.41.prompt": 7,
        "q.41.completion": 3,
        "q.41.total": 12,
        "q.41.models.gpt-4%2E1.prompt": 7,
        "q.41.models.gpt-4%2E1.completion": 3,
    }
    # Replies recorded before the model was kept, or without usage: tokens without a price, or none.
    unknown = counted(envelope(events.CHAT_SESSION_REPLY_RECORDED, 3, {**reply, "model": None}))[doc]
    assert unknown == {"q.41.ai": 1, "q.41.prompt": 7, "q.41.completion": 3, "q.41.total": 12}
    assert counted(envelope(events.CHAT_SESSION_REPLY_RECORDED, 3, {**reply, "usage": None}))[doc] == {"q.41.ai": 1}


def test_events_that_count_nothing_add_nothing():
    assert counted(envelope(events.CHAT_SESSION_TAGGED, 4, {"tags": ["a"]})) == {}
    assert counted(envelope(events.CHAT_SESSION_CREATED, 1, created_data())) == {}


def bot_message() -> dict:
    return {
        "task_id": "t",
        "message": message("assistant", "2026-07-01T10:20:00.000000Z"),
        "channel_id": "c",
        "platform": "telegram",
        "recipient": "jane",
    }


def created_data() -> dict:
    return {
        "chatbot_id": "bot",
        "participant_id": "jane",
        "participant_identifier": "jane",
        "participant_remote_id": "",
        "channel_id": "c",
        "platform": None,
        "status": "setup",
        "state": {},
        "session_token_required": True,
    }


def params(**given) -> dict:
    return {"period": None, "start": None, "end": None, "granularity": "total", "tz": ZoneInfo("UTC"), **given}


def test_the_default_window_is_the_current_month_in_the_timezone():
    window = usage_window(params(tz=ZoneInfo("Pacific/Kiritimati")), datetime(2026, 3, 31, 12, tzinfo=timezone.utc))
    # Already April 1st at UTC+14.
    assert (window.start.isoformat(), window.end.isoformat()) == (
        "2026-04-01T00:00:00+14:00",
        "2026-05-01T00:00:00+14:00",
    )
    previous = usage_window(params(period="previous_month"), datetime(2026, 1, 15, tzinfo=timezone.utc))
    assert (previous.start.isoformat(), previous.end.isoformat()) == (
        "2025-12-01T00:00:00+00:00",
        "2026-01-01T00:00:00+00:00",
    )


def test_daily_buckets_start_at_local_midnight_across_a_dst_change():
    paris = ZoneInfo("Europe/Paris")
    window = usage_window(
        params(granularity="daily", tz=paris, start=datetime(2026, 3, 28), end=datetime(2026, 3, 31)), NOW
    )
    assert [bucket.isoformat() for bucket in window.buckets] == [
        "2026-03-28T00:00:00+01:00",
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
    ]


def test_weeks_start_on_monday_and_months_on_the_first_even_before_the_window():
    start, end = datetime(2026, 7, 15, tzinfo=timezone.utc), datetime(2026, 8, 20, tzinfo=timezone.utc)
    weekly = usage_window(params(granularity="weekly", start=start, end=end), NOW)
    assert weekly.buckets[0].date().isoformat() == "2026-07-13" and len(weekly.buckets) == 6
    monthly = usage_window(params(granularity="monthly", start=start, end=end), NOW)
    assert [bucket.date().isoformat() for bucket in monthly.buckets] == ["2026-07-01", "2026-08-01"]


def test_at_most_366_buckets_and_never_an_empty_window():
    year = params(granularity="daily", start=datetime(2024, 1, 1), end=datetime(2025, 1, 1))
    assert len(usage_window(year, NOW).buckets) == 366
    with pytest.raises(ApiError) as refused:
        usage_window({**year, "end": datetime(2025, 1, 2)}, NOW)
    assert refused.value.body == {"non_field_errors": ["The window spans more than 366 daily buckets."]}
    with pytest.raises(ApiError):
        usage_window(params(start=datetime(2025, 1, 2), end=datetime(2025, 1, 2)), NOW)


def page(size: int, position: str | None = None, backward: bool = False) -> PageRequest:
    cursor = encode_cursor(LISTING, position, backward) if position is not None else None
    return PageRequest(size, cursor, "http://testserver/api/v2/usage/", (("metric", "cost"), ("metric", "tokens")))


def test_pages_of_group_and_bucket_rows_follow_their_cursors_both_ways():
    groups = ["a", "b", "c"]
    first = grouped_page(groups, 2, page(4))
    assert first.rows == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert first.links["count"] == 3 and first.links["previous"] is None
    assert "metric=cost&metric=tokens&cursor=" in first.links["next"]
    second = grouped_page(groups, 2, page(4, "b|1"))
    assert second.rows == [("c", 0), ("c", 1)] and second.links["next"] is None and "count" not in second.links
    assert grouped_page(groups, 2, page(4, "c|0", backward=True)).rows == first.rows
    # A group the cursor names that has no counters now: the rows go on from where it would be.
    assert grouped_page(groups, 2, page(1, "bb|0")).rows == [("c", 0)]
    assert grouped_page([], 1, page(4)).rows == []


def test_cost_prices_each_models_tokens_per_million_and_nothing_without_a_price():
    totals = Totals(models={"m": [2_000_000, 500_000], "unpriced": [10, 10]})
    table = PriceTable("EUR", {"m": (Decimal("0.15"), Decimal("0.6"))})
    assert table.cost(totals) == Decimal("0.6")
