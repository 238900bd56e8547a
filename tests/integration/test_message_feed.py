"""The API process's one reader for every open message stream, against a real MongoDB-protocol server."""

import threading
import time

import pytest
from pymongo import MongoClient

from infra.wiring.local_servers import LocalMongo
from query_api.queries.change_feed import ChangeFeed

WAIT_S = 5


@pytest.fixture(scope="module")
def messages(tmp_path_factory):
    server = LocalMongo(tmp_path_factory.mktemp("mongo")).start()
    client = MongoClient(server.url, serverSelectionTimeoutMS=5000)
    yield client.ocs_feed.messages
    client.close()
    server.stop()


@pytest.fixture
def feed(messages):
    messages.delete_many({})
    running = ChangeFeed(messages, key="session_id", order="created_at")
    yield running
    running.close()


def project(messages, session_id: str, *instants: str) -> None:
    messages.insert_many([{"session_id": session_id, "created_at": at, "content": at} for at in instants])


def contents(subscription, count: int) -> list[str]:
    seen: list[str] = []
    while len(seen) < count:
        arrived = subscription.wait(WAIT_S)
        assert arrived, f"only {seen} arrived"
        seen += [doc["content"] for doc in arrived]
    return seen


def test_a_stream_gets_its_sessions_history_then_each_new_message_once_in_order(feed, messages):
    project(messages, "s1", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z")
    subscription = feed.subscribe("s1", None)
    assert contents(subscription, 2) == ["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"]
    project(messages, "s1", "2026-01-01T00:00:03Z")
    assert contents(subscription, 1) == ["2026-01-01T00:00:03Z"]
    assert subscription.wait(0.1) == []


def test_streams_of_one_session_each_get_what_is_newer_than_their_own_place(feed, messages):
    project(messages, "s1", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z")
    from_start = feed.subscribe("s1", None)
    from_second = feed.subscribe("s1", "2026-01-01T00:00:01Z")
    assert contents(from_start, 2) == ["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"]
    assert contents(from_second, 1) == ["2026-01-01T00:00:02Z"]
    project(messages, "s1", "2026-01-01T00:00:03Z")
    assert contents(from_start, 1) == contents(from_second, 1) == ["2026-01-01T00:00:03Z"]


def test_streams_of_other_sessions_see_only_their_own(feed, messages):
    first, second = feed.subscribe("s1", None), feed.subscribe("s2", None)
    project(messages, "s2", "2026-01-01T00:00:01Z")
    project(messages, "s1", "2026-01-01T00:00:02Z")
    assert contents(first, 1) == ["2026-01-01T00:00:02Z"]
    assert contents(second, 1) == ["2026-01-01T00:00:01Z"]
    assert first.wait(0.1) == second.wait(0.1) == []


def test_a_message_projected_late_with_an_older_time_than_another_sessions_is_still_delivered(feed, messages):
    # Sessions are projected independently: one session's marks must never hide another's messages.
    first, second = feed.subscribe("s1", None), feed.subscribe("s2", None)
    project(messages, "s1", "2026-01-01T00:00:05Z")
    assert contents(first, 1) == ["2026-01-01T00:00:05Z"]
    project(messages, "s2", "2026-01-01T00:00:01Z")
    assert contents(second, 1) == ["2026-01-01T00:00:01Z"]


def test_an_unsubscribed_stream_is_no_longer_read_for(feed, messages):
    subscription = feed.subscribe("s1", None)
    feed.unsubscribe(subscription)
    project(messages, "s1", "2026-01-01T00:00:01Z")
    assert subscription.wait(0.2) == []
    assert not feed.by_key


def test_streams_opened_while_messages_are_projected_miss_none_and_repeat_none(feed, messages):
    instants = [f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z" for n in range(300)]
    writer = threading.Thread(target=lambda: [project(messages, "s1", at) for at in instants])
    writer.start()
    subscriptions = []
    while writer.is_alive():
        subscriptions.append(feed.subscribe("s1", None))
        time.sleep(0.02)
    writer.join()
    assert len(subscriptions) > 3
    for subscription in subscriptions:
        assert contents(subscription, len(instants)) == instants


def test_the_feed_reads_nothing_while_no_stream_is_open(feed, messages):
    feed.unsubscribe(feed.subscribe("s1", None))
    deadline = time.monotonic() + WAIT_S
    while feed.watching.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not feed.watching.is_set()
