"""The relay publishes the event store's log to Kafka: everything, once per broker life, in order per aggregate."""

import threading
import time
from collections import defaultdict

import pytest
from kafka import KafkaConsumer

from command_api.relay import Relay
from infra.heartbeat import Heartbeat
from infra.kafka import EnvelopeJson
from schemas.events import TOPICS
from tests.integration.conftest import record_workload
from tests.stack import eventually


def published(bootstrap: str) -> list[dict]:
    consumer = KafkaConsumer(
        *TOPICS.values(),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        value_deserializer=EnvelopeJson(),
        consumer_timeout_ms=1500,
    )
    try:
        return [record.value for record in consumer]
    finally:
        consumer.close()


@pytest.fixture
def run_relay():
    """Starts a relay on a thread: (its stop event, the thread). Every relay a test started is stopped and
    joined at its end, whatever happened: one still reading the event store when the servers close would
    crash the run."""
    started = []

    def run(system) -> tuple[threading.Event, threading.Thread]:
        stop = threading.Event()
        relay = Relay(system.app, system.settings.kafka_bootstrap, 4, Heartbeat(system.db, "relay"))
        thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
        thread.start()
        started.append((stop, thread))
        return stop, thread

    yield run
    for stop, thread in started:
        stop.set()
        thread.join(30)


def caught_up(system) -> bool:
    return len(published(system.settings.kafka_bootstrap)) >= system.app.recorder.max_notification_id()


def test_relay_publishes_every_event_once_in_aggregate_order_and_resumes_without_repeating(servers, run_relay):
    system = servers.system
    record_workload(system)
    first_stop, thread = run_relay(system)
    assert eventually(lambda: caught_up(system), timeout_s=30)
    first_stop.set()
    thread.join(10)

    # More events while the relay is down; a new relay resumes from what the broker holds.
    record_workload(system)
    second_stop, thread = run_relay(system)
    assert eventually(lambda: caught_up(system), timeout_s=30)
    time.sleep(0.3)  # a relay that repeated itself would have published again by now
    second_stop.set()
    thread.join(10)

    envelopes = published(system.settings.kafka_bootstrap)
    positions = [e["position"] for e in envelopes]
    assert sorted(positions) == list(range(1, system.app.recorder.max_notification_id() + 1))
    by_aggregate = defaultdict(list)
    for envelope in envelopes:
        by_aggregate[envelope["aggregate_id"]].append(envelope["aggregate_version"])
    assert all(versions == list(range(1, len(versions) + 1)) for versions in by_aggregate.values())
    assert {e["type"] for e in envelopes} >= {"Team.Created", "ChatSession.Created", "ChatSession.MessagesAppended"}


def test_events_a_killed_broker_lost_are_published_again(servers, run_relay):
    """noida-db loses up to ~1 s of acknowledged writes on SIGKILL; the relay must notice and re-send."""
    system = servers.system
    writing = threading.Event()
    stop, relay_thread = run_relay(system)

    def write_continuously():
        while not writing.is_set():
            record_workload(system, sessions=2, messages_per_session=1)

    writer = threading.Thread(target=write_continuously, daemon=True)
    writer.start()
    try:
        time.sleep(1.5)
        servers.kafka.kill()
        servers.kafka.start()
        time.sleep(1.5)
    finally:
        writing.set()
        writer.join(30)
    assert eventually(lambda: caught_up(system), timeout_s=60)
    stop.set()
    relay_thread.join(10)

    positions = {e["position"] for e in published(system.settings.kafka_bootstrap)}
    assert positions == set(range(1, system.app.recorder.max_notification_id() + 1))
