"""A projector parks what it cannot apply, keeps going, and applies the parked events after a fix."""

from uuid import UUID

from kafka import KafkaConsumer

from command_api import commands
from infra.dead_letters import BEHIND_A_PARKED_EVENT
from infra.kafka import EnvelopeJson
from projectors import projections
from projectors.runner import GROUP, apply
from schemas.events import DEAD_LETTER_TOPIC
from tests.integration.conftest import record_workload
from tests.stack import eventually


def broken_tagging(envelope, data):
    raise RuntimeError("projection bug")


def test_poison_events_are_parked_in_order_and_replayed_after_the_fix(servers, background, monkeypatch):
    system = servers.system
    for component in (system.relay(), system.projector()):
        background.run(component)
    first, second = record_workload(system, sessions=2)
    team = system.app.repository.get(UUID(first)).team
    assert eventually(lambda: system.db.sessions.count_documents({"_id": {"$in": [first, second]}}) == 2, 30)

    monkeypatch.setitem(projections.PROJECTIONS, "ChatSession.Tagged", broken_tagging)
    system.bus.handle(commands.TagSession(team, first, ("vip",)))
    system.bus.handle(commands.ReplaceSessionState(team, first, {"after": "the poison"}))
    system.bus.handle(commands.TagSession(team, second, ("vip",)))
    (later,) = record_workload(system, sessions=1)

    dead_letters = system.dead_letters(GROUP)
    parked = eventually(lambda: len(dead_letters.letters()) == 3 and dead_letters.letters(), timeout_s=30)
    assert parked, dead_letters.letters()
    by_session = {(p["aggregate_id"], p["type"]): p for p in parked}
    assert by_session[(first, "ChatSession.Tagged")]["error"] == "RuntimeError('projection bug')"
    assert by_session[(first, "ChatSession.Tagged")]["attempts"] == 3
    assert by_session[(first, "ChatSession.StateChanged")]["error"] == BEHIND_A_PARKED_EVENT
    assert (second, "ChatSession.Tagged") in by_session
    # The rest of the stream went on.
    assert eventually(lambda: system.db.sessions.find_one({"_id": later}), timeout_s=30)
    assert system.db.sessions.find_one({"_id": first})["tags"] == []

    monkeypatch.undo()
    assert dead_letters.replay(lambda envelopes: apply(system.db, envelopes)) == {"replayed": 3, "still_parked": 0}
    first_doc = system.db.sessions.find_one({"_id": first})
    assert first_doc["tags"] == ["vip"] and '"after":"the poison"' in first_doc["state"]
    assert system.db.sessions.find_one({"_id": second})["tags"] == ["vip"]

    consumer = KafkaConsumer(
        DEAD_LETTER_TOPIC,
        bootstrap_servers=system.settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        value_deserializer=EnvelopeJson(),
        consumer_timeout_ms=2000,
    )
    published = [record.value for record in consumer]
    consumer.close()
    assert sorted(letter["envelope"]["type"] for letter in published) == [
        "ChatSession.StateChanged",
        "ChatSession.Tagged",
        "ChatSession.Tagged",
    ]
