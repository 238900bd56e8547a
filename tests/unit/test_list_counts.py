"""What each session event moves of the lists' counters (`projectors/projections/list_counts.py`)."""

from projectors.projections.list_counts import ListCounts, listed_after
from schemas import events

CREATED = {"chatbot": "bot", "tags": [], "versions": []}


def envelope(kind: str) -> dict:
    return {"type": kind, "team": "t", "aggregate_id": "s1", "occurred_at": "2026-01-01T00:00:00.000000Z"}


def moved(before: dict | None, kind: str, data: dict) -> tuple[dict | None, dict[str, int]]:
    counts = ListCounts()
    after = listed_after(before, envelope(kind), data)
    counts.session_moved(envelope(kind), before, after)
    return after, {doc_id: n for doc_id, n in counts.added.items() if n}


def test_a_created_session_counts_in_its_team_and_chatbot_and_moves_the_list_ends():
    after, added = moved(None, events.CHAT_SESSION_CREATED, {"chatbot_id": "bot"})
    assert after == CREATED
    assert added == {"sessions|t|all|": 1, "sessions|t|chatbot|bot": 1}


def test_tags_count_once_each_and_leave_their_counters_when_removed():
    tagged, added = moved(CREATED, events.CHAT_SESSION_TAGGED, {"tags": ["a", "b"]})
    assert added == {
        "sessions|t|tag|a": 1,
        "sessions|t|tag|b": 1,
        "sessions|t|chatbot_tag|bot|a": 1,
        "sessions|t|chatbot_tag|bot|b": 1,
    }
    assert moved(tagged, events.CHAT_SESSION_TAGGED, {"tags": ["a"]})[1] == {}
    assert moved(tagged, events.CHAT_SESSION_UNTAGGED, {"tags": ["a", "c"]}) == (
        {**CREATED, "tags": ["b"]},
        {"sessions|t|tag|a": -1, "sessions|t|chatbot_tag|bot|a": -1},
    )


def test_a_reply_tagged_with_a_version_counts_the_session_under_that_version():
    message = {"tags": ["v2", "urgent"]}
    after, added = moved(CREATED, events.CHAT_SESSION_REPLY_RECORDED, {"message": message})
    assert after["versions"] == ["v2"]
    assert added == {"sessions|t|version|v2": 1, "sessions|t|chatbot_version|bot|v2": 1}
    assert moved(after, events.CHAT_SESSION_MESSAGES_APPENDED, {"messages": [message]})[1] == {}


def test_an_event_of_a_session_not_created_here_counts_nothing():
    assert moved(None, events.CHAT_SESSION_TAGGED, {"tags": ["a"]}) == (None, {})
