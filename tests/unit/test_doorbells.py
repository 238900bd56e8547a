"""Doorbells (infra/doorbells.py): a ring ends a sleep at once; a ring that reaches nobody is harmless. A wait that
the ring did not end would last its whole timeout and answer False, so no assertion here is about time."""

import threading

import pytest

from infra import doorbells
from infra.doorbells import Doorbell, Doorbells, doorbells_of, remove_unanswered


@pytest.fixture
def data_dir(tmp_path):
    # Deeper than a UNIX socket's path may be: the doorbells must not live under it.
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    yield deep
    remove_unanswered(deep)


def test_a_ring_wakes_the_sleeper_and_one_wake_takes_every_ring_so_far(data_dir):
    doorbell = Doorbell(data_dir, "projector", "projector-1")
    ringer = Doorbells(data_dir, "projector")
    try:
        threading.Timer(0.05, ringer.ring).start()
        assert doorbell.wait(30)
        ringer.ring()
        ringer.ring()
        assert doorbell.wait(30)
        assert not doorbell.wait(0)
    finally:
        doorbell.close()
        ringer.close()


def test_only_the_named_components_are_rung(data_dir):
    worker = Doorbell(data_dir, "worker", "worker-1")
    relay = Doorbell(data_dir, "relay", "host")
    ringer = Doorbells(data_dir, "relay")
    try:
        ringer.ring()
        assert relay.wait(30)
        assert not worker.wait(0)
    finally:
        worker.close()
        relay.close()
        ringer.close()


def test_a_replica_started_after_the_ringer_looked_is_rung_once_it_looks_again(data_dir, monkeypatch):
    ringer = Doorbells(data_dir, "worker")
    ringer.ring()  # looks: nobody yet
    late = Doorbell(data_dir, "worker", "worker-2")
    try:
        monkeypatch.setattr(doorbells, "LOOK_AGAIN_S", 0.0)
        ringer.ring()
        assert late.wait(30)
    finally:
        late.close()
        ringer.close()


def test_ringing_nobody_or_a_killed_process_is_harmless_and_its_doorbell_is_removed_later(data_dir):
    ringer = Doorbells(data_dir, "worker")
    ringer.ring()  # no doorbell directory at all
    killed = Doorbell(data_dir, "worker", "worker-1")
    killed.socket.close()  # as kill -9 leaves it: the socket file, with nobody reading it
    ringer.look()
    ringer.ring()
    live = Doorbell(data_dir, "worker", "worker-2")
    try:
        remove_unanswered(data_dir)
        assert not killed.path.exists()
        assert live.path.exists()
    finally:
        live.close()
        ringer.close()
    assert not doorbells_of(data_dir).exists()


def test_a_replica_restarted_under_its_id_takes_over_its_doorbell(data_dir):
    before = Doorbell(data_dir, "projector", "projector-1")
    before.socket.close()
    after = Doorbell(data_dir, "projector", "projector-1")
    ringer = Doorbells(data_dir, "projector")
    try:
        ringer.ring()
        assert after.wait(30)
    finally:
        after.close()
        ringer.close()


def test_a_ring_can_say_something_and_a_wake_reads_what_every_ring_so_far_said(data_dir):
    doorbell = Doorbell(data_dir, "api", "api-1")
    ringer = Doorbells(data_dir, "api")
    try:
        ringer.ring(b'[["a", 1]]')
        ringer.ring(b'[["b", 2]]')
        assert doorbell.news(30) == [b'[["a", 1]]', b'[["b", 2]]']
        assert doorbell.news(0) == []
    finally:
        doorbell.close()
        ringer.close()
