"""ChatSession.append_messages: sequence numbers and instants that `since`-style polling can rely on."""

import re
from datetime import datetime, timezone

import pytest

from command_api.domain import chat_session as chat_session_module
from command_api.domain.chat_session import ChatSession, api_channel_id

CREATED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def append(session: ChatSession, *contents: str) -> list[dict]:
    """Append user messages with ids equal to their contents; answer the messages the event recorded."""
    session.append_messages([{"id": content, "role": "user", "content": content} for content in contents])
    return session.pending_events[-1].messages


@pytest.fixture
def clock(monkeypatch):
    """A settable `now` for the module under test, to reproduce a clock that stands still or steps back."""

    class Clock(datetime):
        instant = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)

        @classmethod
        def now(cls, tz=None):
            return cls.instant.astimezone(tz)

    monkeypatch.setattr(chat_session_module, "datetime", Clock)
    return Clock


def test_messages_are_numbered_from_zero_in_request_order(chat_session):
    appended = append(chat_session, "a", "b", "c")

    assert [(m["seq"], m["id"], m["content"]) for m in appended] == [(0, "a", "a"), (1, "b", "b"), (2, "c", "c")]


def test_sequence_numbers_continue_across_appends(chat_session):
    append(chat_session, "a", "b")
    later = append(chat_session, "c")

    assert [m["seq"] for m in later] == [2]
    assert chat_session.message_count == 3


def test_created_at_is_utc_with_microseconds_and_z(chat_session):
    appended = append(chat_session, "a", "b")

    assert all(CREATED_AT.match(m["created_at"]) for m in appended)


def test_created_at_strictly_increases_within_and_across_appends(chat_session):
    stamps = [m["created_at"] for m in append(chat_session, "a", "b", "c") + append(chat_session, "d", "e")]

    # Compared as text on purpose: the read side sorts and filters these strings, not datetimes.
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_created_at_still_increases_when_the_clock_stands_still(chat_session, clock):
    first = append(chat_session, "a", "b")
    second = append(chat_session, "c")

    assert [m["created_at"] for m in first + second] == [
        "2030-01-01T12:00:00.000001Z",
        "2030-01-01T12:00:00.000002Z",
        "2030-01-01T12:00:00.000003Z",
    ]


def test_created_at_never_goes_back_when_the_clock_does(chat_session, clock):
    before = append(chat_session, "a")[-1]["created_at"]
    clock.instant = clock.instant.replace(year=2029)

    after = append(chat_session, "b")[0]["created_at"]

    assert after > before


def test_metadata_and_tags_default_to_empty_and_are_kept_when_given(chat_session):
    chat_session.append_messages(
        [
            {"id": "1", "role": "user", "content": "a"},
            {"id": "2", "role": "assistant", "content": "b", "metadata": {"k": 1}, "tags": ["v1"]},
        ]
    )
    plain, tagged = chat_session.pending_events[-1].messages

    assert (plain["metadata"], plain["tags"]) == ({}, [])
    assert (tagged["role"], tagged["metadata"], tagged["tags"]) == ("assistant", {"k": 1}, ["v1"])


def test_one_append_is_one_event_of_the_sessions_team(chat_session):
    append(chat_session, "a", "b")

    created, appended = chat_session.collect_events()

    assert type(appended).__qualname__ == "ChatSession.MessagesAppended"
    assert appended.team == created.team == "acme"
    assert chat_session.version == 2


def test_last_message_at_is_the_last_appended_instant(chat_session):
    last = append(chat_session, "a", "b")[-1]["created_at"]

    assert chat_session.last_message_at == datetime.fromisoformat(last)


def test_the_api_channel_is_one_per_team():
    assert api_channel_id("acme") == api_channel_id("acme")
    assert api_channel_id("acme") != api_channel_id("other")
