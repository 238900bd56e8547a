"""Read-your-writes hears which aggregates the projectors applied (command_api/read_your_writes.py): a wait ends
when a ring names its aggregate at its version or later, and only a ring after the one it already checked on."""

import threading

import pytest

from command_api.read_your_writes import EVER, ProjectionNews
from infra.doorbells import Doorbell, Doorbells, remove_unanswered


@pytest.fixture
def rung(tmp_path):
    doorbell = Doorbell(tmp_path, "api", "api-1")
    ringer = Doorbells(tmp_path, "api")
    news = ProjectionNews(doorbell)
    assert not news.hearing()  # nothing rang yet; it listens from now on
    yield news, ringer
    doorbell.close()
    ringer.close()
    remove_unanswered(tmp_path)


def test_a_wait_ends_when_a_ring_names_its_aggregate_at_its_version(rung):
    news, ringer = rung
    threading.Timer(0.05, lambda: ringer.ring(b'[["s1", 3], ["s2", 1]]')).start()
    news.wait({"s1": 3}, EVER, 30)
    assert news.hearing()
    with news.changed:
        assert news.named({"s1": 3}, EVER) and news.named({"s2": 1}, EVER)
        assert not news.named({"s1": 4}, EVER) and not news.named({"s3": 1}, EVER)
        # Named by the ring already checked on: only a later ring ends the next wait.
        assert not news.named({"s1": 3}, news.rings)


def test_a_ring_that_says_nothing_of_use_is_ignored(rung):
    news, ringer = rung
    for nonsense in (b"not json", b"[1, 2]", b'[["s1", "two"]]', b'{"s1": 1}'):
        ringer.ring(nonsense)
    ringer.ring(b'[["s1", 1]]')
    news.wait({"s1": 1}, EVER, 30)
    with news.changed:
        assert news.named({"s1": 1}, EVER)
