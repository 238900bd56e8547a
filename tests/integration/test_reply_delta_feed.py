"""One API process's follower of the reply deltas (query_api/queries/reply_deltas.py) on the real broker: a stream
that subscribes just as the follower stops for want of streams still gets every delta."""

import time

import pytest

from infra.kafka import ensure_topics
from query_api.queries import reply_deltas
from query_api.queries.reply_deltas import Delta, DeltaFeed
from schemas.reply_deltas import REPLY_DELTAS_TOPIC
from tests.stack import eventually
from workers.reply_deltas import DeltaPublisher


class Pushed:
    def __init__(self):
        self.items = []

    def push(self, item) -> None:
        self.items.append(item)


@pytest.fixture
def feed(servers, monkeypatch):
    monkeypatch.setattr(reply_deltas, "LINGER_S", 0.0)  # the follower stops as soon as no stream is open
    ensure_topics(servers.kafka.bootstrap, [REPLY_DELTAS_TOPIC], servers.partitions)
    followed = DeltaFeed(servers.kafka.bootstrap, servers.partitions)
    yield followed
    followed.close()


def test_a_stream_that_opens_as_the_follower_stops_gets_the_deltas(servers, feed):
    publisher = DeltaPublisher(servers.kafka.bootstrap)
    try:
        for attempt in range(20):
            stream = Pushed()
            feed.subscribe("session", stream)
            publisher.send(
                {"session_id": "session", "task_id": f"t{attempt}", "offset": 0, "delta": "hi", "done": True}
            )
            assert eventually(lambda s=stream, a=attempt: Delta(f"t{a}", 0, "hi") in s.items, timeout_s=10), attempt
            feed.unsubscribe("session", stream)
            time.sleep(0.001 * attempt)  # subscribe again at different moments of the follower's stopping
    finally:
        publisher.close()
