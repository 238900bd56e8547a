"""API v2's usage report over HTTP (`GET /api/v2/usage/`): what it counts from chats and the sessions API, every
parameter (window, timezone, granularity, grouping in cursor pages, filters), its refusals in OCS's error bodies, the
credentials it takes, another team's ids, and the same report after the read models are rebuilt."""

import shlex
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.stack import ChatClient, Client, eventually

ALL_METRICS = "metric=messages&metric=sessions&metric=participants&metric=tokens&metric=cost"
NOTHING = {
    "messages": {"human": 0, "ai": 0, "total": 0},
    "sessions": 0,
    "participants": 0,
    "tokens": {"prompt": 0, "completion": 0, "total": 0},
    "cost": {"total": "0.00000000", "currency": "EUR"},
}
DATETIME_FORMATS = "YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]"
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


def days_from_today(days: int) -> str:
    return (datetime.now(timezone.utc).date() + timedelta(days=days)).isoformat()


@pytest.fixture(scope="module")
def usage(stack, fake_llm):
    """A team whose chatbot answers through a fake LLM that reports 1 prompt and 1 completion token per reply, priced
    0.1 and 0.2 EUR per token: two chat participants each say one thing and get a reply, and a session created over
    the sessions API brings its history (a user's message and an assistant's) under the key's user; a fourth
    participant starts a chat and says nothing."""
    tenant = stack.new_tenant(llm_base_url=fake_llm.base_url)
    stack.admin(
        f"set-model-price --team {tenant.slug} --model fake-model --prompt 100000 --completion 200000 --currency EUR"
    )
    for text in ("hello", "hi there"):
        chat = ChatClient(stack.base_url)
        chat.start(tenant.chatbot_id)
        assert chat.reply_to(chat.say(text))["status"] == "complete"
    tenant.create_session(messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
    ChatClient(stack.base_url).start(tenant.chatbot_id)  # never engaged: no session, no participant of the usage
    client = tenant.client()
    counted = eventually(
        lambda: (
            client.get(f"/api/v2/usage/?metric=messages&start={today()}&end={days_from_today(1)}").json()["results"][
                "messages"
            ]["total"]
            == 6
        ),
        timeout_s=20,
    )
    assert counted
    return tenant


def report(tenant, query: str, key: str | None = None):
    response = tenant.client(key).get(f"/api/v2/usage/?{query}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_window_counts_messages_sessions_participants_tokens_and_their_cost(usage):
    this_month = report(usage, f"{ALL_METRICS}&period=current_month")
    start = datetime.now(timezone.utc).date().replace(day=1)
    assert this_month["period"]["start"] == f"{start.isoformat()}T00:00:00+00:00"
    assert (this_month["period"]["timezone"], this_month["granularity"], this_month["group_by"]) == (
        "UTC",
        "total",
        None,
    )
    assert this_month["results"] == {
        "messages": {"human": 3, "ai": 3, "total": 6},
        "sessions": 3,
        "participants": 3,
        "tokens": {"prompt": 2, "completion": 2, "total": 4},
        "cost": {"total": "0.60000000", "currency": "EUR"},
    }
    # The current month is the default window; each block is there only when asked for, in the order asked.
    assert report(usage, "metric=tokens&metric=sessions")["results"] == {
        "tokens": {"prompt": 2, "completion": 2, "total": 4},
        "sessions": 3,
    }
    assert report(usage, f"{ALL_METRICS}&period=previous_month")["results"] == NOTHING
    # `end` is excluded: a window that ends today has nothing of today.
    assert report(usage, f"{ALL_METRICS}&start={days_from_today(-3)}&end={today()}")["results"] == NOTHING


def test_a_price_changed_later_prices_past_usage_too(stack, usage):
    stack.admin(f"set-model-price --team {usage.slug} --model fake-model --prompt 0.5 --completion 0 --currency EUR")
    try:
        assert report(usage, "metric=cost")["results"]["cost"] == {"total": "0.00000100", "currency": "EUR"}
    finally:
        command = "--prompt 100000 --completion 200000 --currency EUR"
        stack.admin(f"set-model-price --team {usage.slug} --model fake-model {command}")
    # A team's prices are in one currency.
    with pytest.raises(Exception, match="EUR"):
        stack.admin(f"set-model-price --team {usage.slug} --model other --prompt 1 --completion 1 --currency USD")


def test_finer_granularities_give_every_bucket_of_the_window_in_its_timezone(usage):
    daily = report(usage, f"metric=messages&granularity=daily&start={days_from_today(-1)}&end={days_from_today(2)}")
    assert [bucket["bucket_start"][:10] for bucket in daily["results"]] == [
        days_from_today(-1),
        today(),
        days_from_today(1),
    ]
    assert [bucket["messages"]["total"] for bucket in daily["results"]] == [0, 6, 0]
    # Buckets start at midnight in `tz`, and so does a window given without an offset.
    kolkata = report(
        usage, f"metric=sessions&granularity=daily&tz=Asia/Kolkata&start={today()}&end={days_from_today(1)}"
    )
    assert kolkata["period"] == {
        "start": f"{today()}T00:00:00+05:30",
        "end": f"{days_from_today(1)}T00:00:00+05:30",
        "timezone": "Asia/Kolkata",
    }
    assert [bucket["bucket_start"] for bucket in kolkata["results"]] == [f"{today()}T00:00:00+05:30"]
    weekly = report(usage, "metric=sessions&granularity=weekly&period=current_month")["results"]
    assert all(datetime.fromisoformat(bucket["bucket_start"]).weekday() == 0 for bucket in weekly)
    assert sum(bucket["sessions"] for bucket in weekly) == 3
    last_month = (datetime.now(timezone.utc).date().replace(day=1) - timedelta(days=1)).replace(day=15)
    monthly = report(usage, f"metric=sessions&granularity=monthly&start={last_month}&end={days_from_today(1)}")
    # The first bucket starts on the first of its month, before the window does.
    assert [bucket["bucket_start"][8:10] for bucket in monthly["results"]] == ["01", "01"]
    assert monthly["results"][-1]["sessions"] == 3


def test_group_by_gives_rows_per_group_in_cursor_pages(usage):
    first = report(usage, f"{ALL_METRICS}&group_by=participant&page_size=2")
    assert (first["group_by"], first["count"], first["previous"]) == ("participant", 3, None)
    assert "granularity" not in first and len(first["results"]) == 2
    second = usage.client().get(first["next"]).json()
    assert "count" not in second and second["next"] is None and len(second["results"]) == 1
    rows = first["results"] + second["results"]
    assert [row["participant"]["public_id"] for row in rows] == sorted(row["participant"]["public_id"] for row in rows)
    assert {row["participant"]["platform"] for row in rows} == {"api"}
    assert f"admin@{usage.slug}" in {row["participant"]["identifier"] for row in rows}
    assert sum(row["messages"]["total"] for row in rows) == 6 and all(row["participants"] == 1 for row in rows)
    assert usage.client().get(second["previous"]).json()["results"] == first["results"]

    by_chatbot = report(usage, "metric=messages&group_by=chatbot")
    assert by_chatbot["results"] == [
        {
            "chatbot": {"public_id": usage.chatbot_id, "name": "Support Bot"},
            "messages": {"human": 3, "ai": 3, "total": 6},
        }
    ]
    by_platform = report(usage, "metric=sessions&group_by=platform")["results"]
    assert by_platform == [{"platform": "api", "sessions": 3}]
    # With a finer granularity, one row per group and bucket, zero-filled.
    window = f"start={days_from_today(-1)}&end={days_from_today(1)}"
    daily = report(usage, f"metric=sessions&group_by=chatbot&granularity=daily&{window}")
    assert [(row["bucket_start"][:10], row["sessions"]) for row in daily["results"]] == [
        (days_from_today(-1), 0),
        (today(), 3),
    ]
    assert daily["count"] == 1


def test_filters_narrow_the_report(stack, usage):
    participants = report(usage, "metric=messages&group_by=participant")["results"]
    admin = next(row for row in participants if row["participant"]["identifier"] == f"admin@{usage.slug}")
    one = report(usage, f"metric=messages&metric=participants&participant={admin['participant']['public_id']}")
    assert one["results"] == {"messages": {"human": 1, "ai": 1, "total": 2}, "participants": 1}
    by_identifier = report(usage, f"metric=messages&participant_identifier=admin@{usage.slug}")
    assert by_identifier["results"] == {"messages": {"human": 1, "ai": 1, "total": 2}}
    assert report(usage, "metric=messages&participant_identifier=nobody")["results"]["messages"]["total"] == 0
    assert report(usage, f"metric=messages&chatbot={usage.chatbot_id}")["results"]["messages"]["total"] == 6
    assert report(usage, "metric=messages&platform=api")["results"]["messages"]["total"] == 6
    assert report(usage, "metric=messages&platform=web")["results"]["messages"]["total"] == 0
    other_bot = usage.new_chatbot("Other")
    assert report(usage, f"metric=messages&chatbot={other_bot}")["results"]["messages"]["total"] == 0


def test_another_teams_ids_match_nothing_and_its_usage_is_its_own(stack, usage):
    other = stack.new_tenant()
    other.create_session(messages=[{"role": "user", "content": "x"}])
    theirs = eventually(lambda: report(other, "metric=messages&group_by=participant")["results"], timeout_s=20)
    their_participant = theirs[0]["participant"]["public_id"]
    assert report(other, "metric=messages")["results"]["messages"] == {"human": 1, "ai": 0, "total": 1}
    for query in (
        f"chatbot={other.chatbot_id}",
        f"participant={their_participant}",
        f"participant_identifier=admin@{other.slug}",
    ):
        assert report(usage, f"metric=messages&metric=sessions&{query}")["results"] == {
            "messages": {"human": 0, "ai": 0, "total": 0},
            "sessions": 0,
        }
    assert report(usage, "metric=messages")["results"]["messages"]["total"] == 6


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("", {"metric": ["This field is required."]}),
        ("metric=words", {"metric": ['"words" is not a valid choice.']}),
        ("metric=messages&granularity=hourly", {"granularity": ['"hourly" is not a valid choice.']}),
        ("metric=messages&group_by=team", {"group_by": ['"team" is not a valid choice.']}),
        ("metric=messages&period=last_year", {"period": ['"last_year" is not a valid choice.']}),
        ("metric=messages&platform=pigeon", {"platform": ['"pigeon" is not a valid choice.']}),
        ("metric=messages&tz=Mars/Olympus", {"tz": ['"Mars/Olympus" is not a valid timezone.']}),
        ("metric=messages&tz=../../etc/passwd", {"tz": ['"../../etc/passwd" is not a valid timezone.']}),
        ("metric=messages&chatbot=nope", {"chatbot": ["Must be a valid UUID."]}),
        ("metric=messages&participant=nope", {"participant": ["Must be a valid UUID."]}),
        (
            f"metric=messages&participant_identifier={'x' * 321}",
            {"participant_identifier": ["Ensure this field has no more than 320 characters."]},
        ),
        ("metric=messages&start=2026-07-01", {"non_field_errors": ["'start' and 'end' must be given together."]}),
        ("metric=messages&end=2026-07-01", {"non_field_errors": ["'start' and 'end' must be given together."]}),
        (
            "metric=messages&period=current_month&start=2026-07-01&end=2026-08-01",
            {"non_field_errors": ["'period' cannot be combined with 'start'/'end'."]},
        ),
        ("metric=messages&start=2026-08-01&end=2026-07-01", {"non_field_errors": ["'end' must be after 'start'."]}),
        ("metric=messages&start=2026-07-01&end=2026-07-01", {"non_field_errors": ["'end' must be after 'start'."]}),
        (
            "metric=messages&tz=Asia/Tokyo&start=0001-01-01&end=2026-01-01",
            {"non_field_errors": ["The window must lie within the years 1 to 9999."]},
        ),
        (
            "metric=messages&granularity=monthly&start=9999-01-01&end=9999-12-31",
            {"non_field_errors": ["The window must lie within the years 1 to 9999."]},
        ),
        (
            "metric=messages&granularity=daily&start=2016-01-01&end=2026-01-01",
            {"non_field_errors": ["The window spans more than 366 daily buckets."]},
        ),
        (
            "metric=messages&start=July&end=2026-08-01",
            {"start": [f"Datetime has wrong format. Use one of these formats instead: {DATETIME_FORMATS}."]},
        ),
    ],
)
def test_invalid_parameters_are_refused_in_drf_error_bodies(tenant, query, body):
    response = tenant.client().get(f"/api/v2/usage/?{query}")
    assert (response.status_code, response.json()) == (400, body)


def test_windows_of_at_most_366_buckets_and_any_total_window_are_answered(tenant):
    assert report(tenant, "metric=messages&granularity=daily&start=2025-01-01&end=2026-01-02")["results"][365]
    assert report(tenant, "metric=messages&granularity=monthly&start=2000-01-01&end=2030-01-01")["results"]
    assert report(tenant, "metric=messages&start=0001-01-02&end=9999-12-31")["results"]["messages"]["total"] == 0
    response = tenant.client().get("/api/v2/usage/?metric=messages&group_by=chatbot&cursor=nope")
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid cursor"})


def test_usage_needs_usage_read_of_a_token_and_view_sessions_of_a_role(stack, tenant):
    assert tenant.bearer(tenant.machine_token("usage:read")).get("/api/v2/usage/?metric=messages").status_code == 200
    refused = tenant.bearer(tenant.machine_token("sessions:read chatbots:read")).get("/api/v2/usage/?metric=messages")
    assert (refused.status_code, refused.json()) == (403, FORBIDDEN)
    assert report(tenant, "metric=messages", tenant.read_only_key)["results"]["messages"]["total"] == 0
    no_sessions = stack.admin(f"create-api-key --team {tenant.slug} --role {shlex.quote('Team Admin')}")["key"]
    assert Client(stack.base_url, no_sessions).get("/api/v2/usage/?metric=messages").json() == FORBIDDEN
    viewer = stack.admin(f"create-api-key --team {tenant.slug} --role {shlex.quote('Chat Viewer')}")["key"]
    assert Client(stack.base_url, viewer).get("/api/v2/usage/?metric=messages").status_code == 200


def test_a_rebuild_of_the_read_models_gives_the_same_report(stack, usage):
    queries = [
        f"{ALL_METRICS}&period=current_month",
        f"{ALL_METRICS}&group_by=participant&granularity=daily&start={today()}&end={days_from_today(1)}",
    ]
    before = [report(usage, query) for query in queries]
    stack.admin("rebuild-read-models")
    assert [report(usage, query) for query in queries] == before


def test_an_unknown_chatbot_is_no_error(usage):
    assert report(usage, f"metric=sessions&chatbot={uuid.uuid4()}")["results"] == {"sessions": 0}
