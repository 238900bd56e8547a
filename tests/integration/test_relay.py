"""The relay publishes the event store's log to Kafka: everything, once per broker life, in order per aggregate."""

import threading
import time
from collections import defaultdict
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder
from kafka import KafkaConsumer, KafkaProducer

from command_api import commands
from command_api.relay import GROUP as RELAY
from command_api.write_model.application import OcsApplication
from infra.dead_letters import BEHIND_A_PARKED_EVENT
from infra.doorbells import Doorbell
from infra.kafka import EnvelopeJson
from schemas.events import TOPICS
from tests.integration.conftest import record_workload
from tests.stack import eventually
from tests.write_model import new_bus


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

    def run(system, max_message_bytes: int | None = None) -> tuple[threading.Event, threading.Thread]:
        stop = threading.Event()
        relay = system.relay()
        relay.max_message_bytes = max_message_bytes or relay.max_message_bytes
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


def test_after_a_failed_publish_the_relay_trusts_no_partition_end_and_publishes_again(servers):
    """A broker that lost acknowledged messages may take later sends behind the gap, so that a partition's last
    message says nothing of what it holds below it (`command_api.relay`). Here every partition ends with the
    log's last event when a publish fails: the relay still publishes everything it cannot know the broker holds."""
    system = servers.system
    relay = system.relay()
    stop = threading.Event()
    try:
        relay.resume()
        record_workload(system)
        while relay.publish_once():
            pass
        record_workload(system)
        ((last, _),) = system.app.log_entries(system.app.recorder.max_notification_id() - 1, 1)
        producer = KafkaProducer(bootstrap_servers=system.settings.kafka_bootstrap)
        for topic in TOPICS.values():
            for partition in producer.partitions_for(topic):
                producer.send(topic, value=EnvelopeJson().serialize(topic, None, last), partition=partition)
        producer.close()

        relay.start_over(stop)
        while relay.publish_once():
            pass
    finally:
        relay.close_clients()
    positions = {e["position"] for e in published(system.settings.kafka_bootstrap)}
    assert positions == set(range(1, system.app.recorder.max_notification_id() + 1))


class AppWithoutSafeEncoding(OcsApplication):
    """The write model as it was before client JSON was kept safe from the transcoder: it records events that
    cannot be read back (a JSON object of exactly `_type_` and `_data_` in a session's state)."""

    name = OcsApplication.name  # the same event store tables

    def construct_transcoder(self):
        transcoder = JSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder


def test_events_the_relay_cannot_publish_are_parked_with_their_aggregates_later_events(servers, run_relay):
    system = servers.system
    small_broker = 6000  # as if the broker took 6 kB at most: a 10 kB message cannot be published
    stop, thread = run_relay(system, max_message_bytes=small_broker)
    (big,) = record_workload(system, sessions=1, messages_per_session=1)
    team = system.app.repository.get(UUID(big)).team
    chatbot_id = system.app.repository.get(UUID(big)).chatbot_id
    system.bus.handle(commands.ReplaceSessionState(team, big, {"large": "x" * 10_000}))
    system.bus.handle(commands.TagSession(team, big, ("after-the-large-one",)))
    old = AppWithoutSafeEncoding(system.settings.event_store_url, system.settings.files_dir)
    try:
        unreadable = new_bus(old).handle(
            commands.CreateSession(team, "admin", chatbot_id, "p", page_context={"p": {"_type_": "nope", "_data_": 1}})
        )
    finally:
        old.close()
    (later,) = record_workload(system, sessions=1, messages_per_session=1)

    letters = system.dead_letters(RELAY)
    assert eventually(lambda: len(letters.letters()) == 3, timeout_s=30), letters.letters()
    parked = {(letter["aggregate_id"], letter["type"]): letter for letter in letters.letters()}
    assert parked[(big, "ChatSession.StateChanged")]["error"].startswith("cannot be published: MessageSizeTooLarge")
    assert parked[(big, "ChatSession.Tagged")]["error"] == BEHIND_A_PARKED_EVENT
    unreadable_letter = parked[(str(unreadable.session.id), "ChatSession.Created")]
    assert unreadable_letter["error"].startswith("unreadable event: ")
    assert unreadable_letter["position"] > 0 and unreadable_letter["envelope"] is None
    # Everything else was published, the session recorded after them included.
    assert eventually(lambda: any(e["aggregate_id"] == later for e in published(system.settings.kafka_bootstrap)))
    assert [e["type"] for e in published(system.settings.kafka_bootstrap) if e["aggregate_id"] == big] == [
        "ChatSession.Created",
        "ChatSession.MessagesAppended",
    ]
    # A rebuild replays what the relay published, not what it parked.
    replayable = list(system.app.published_envelopes(letters.held_back()))
    assert [e["aggregate_version"] for e in replayable if e["aggregate_id"] == big] == [1, 2]
    assert not [e for e in replayable if e["aggregate_id"] == str(unreadable.session.id)]
    stop.set()
    thread.join(30)

    # A relay on a broker that takes the large event (the fix deployed) publishes it when asked, in order.
    run_relay(system)
    assert letters.request_replay() == 3
    assert eventually(lambda: len(letters.letters()) == 1, timeout_s=30), letters.letters()
    assert [e["type"] for e in published(system.settings.kafka_bootstrap) if e["aggregate_id"] == big] == [
        "ChatSession.Created",
        "ChatSession.MessagesAppended",
        "ChatSession.StateChanged",
        "ChatSession.Tagged",
    ]
    # What still cannot be read stays parked, with why.
    (still,) = letters.letters()
    assert still["event_id"] == unreadable_letter["event_id"] and still["replay_requested_at"] is None


def test_a_commit_rings_the_relay_and_what_the_relay_publishes_rings_the_consumers(servers, run_relay):
    """`infra.doorbells`: the relay and the consumers hear of new work at once instead of at their next poll."""
    system = servers.system
    data_dir = system.settings.data_dir
    relay_bell, consumer_bell = Doorbell(data_dir, "relay", "watcher"), Doorbell(data_dir, "worker", "watcher")
    try:
        record_workload(system, sessions=1, messages_per_session=1)
        assert relay_bell.wait(30)
        run_relay(system)
        assert consumer_bell.wait(30)
    finally:
        relay_bell.close()
        consumer_bell.close()
