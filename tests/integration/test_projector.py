"""Projections applied to the real MongoDB-protocol server: idempotent, in aggregate order, rebuildable."""

from collections import Counter

from projectors.rebuild import rebuild
from projectors.runner import apply
from schemas.read_models import COLLECTION_OF_AGGREGATE, COLLECTIONS
from tests.integration.conftest import record_workload
from tests.stack import eventually


def read_models(db) -> dict:
    return {name: sorted(db[name].find(), key=lambda doc: doc["_id"]) for name in COLLECTIONS}


def applied_events(db) -> int:
    """Each event moves exactly one aggregate's document up one version."""
    return sum(doc["version"] for name in COLLECTION_OF_AGGREGATE.values() for doc in db[name].find({}, {"version": 1}))


def test_a_redelivered_batch_changes_nothing(servers):
    system = servers.system
    record_workload(system)
    envelopes = list(system.app.all_envelopes())
    rebuild(system.db, envelopes)
    before = read_models(system.db)
    apply(system.db, envelopes)
    apply(system.db, envelopes[len(envelopes) // 2 :])
    assert read_models(system.db) == before


def test_an_event_out_of_turn_is_not_applied(servers):
    system = servers.system
    session_id = record_workload(system, sessions=1)[0]
    envelopes = [e for e in system.app.all_envelopes() if e["aggregate_id"] == session_id]
    created, appended = envelopes
    rebuild(system.db, [])
    apply(system.db, [appended])  # version 2 before version 1 exists: nothing to apply it to
    assert system.db.sessions.count_documents({"_id": session_id}) == 0
    apply(system.db, [created])
    apply(system.db, [created])  # redelivered creation does not reset anything
    apply(system.db, [appended])
    doc = system.db.sessions.find_one({"_id": session_id})
    assert doc["version"] == 2
    assert system.db.messages.count_documents({"session_id": session_id}) == 3
    # The usage counters count each event once, in turn: the out-of-turn and the redelivered ones not at all.
    counted = Counter()
    for doc in system.db.usage.find({"level": "chatbot"}):
        for counts in doc["q"].values():
            counted.update(counts)
    assert counted == {"sessions": 1, "human": 3}
    assert system.db.counting_progress.find_one({"_id": session_id})["version"] == 2


def test_rebuild_equals_what_the_live_pipeline_built(servers, background):
    system = servers.system
    rebuild(system.db, [])
    for component in (system.relay(), system.projector(), system.feed_writer()):
        background.run(component)
    record_workload(system, sessions=8)
    end = system.app.recorder.max_notification_id()
    assert eventually(lambda: applied_events(system.db) == end, timeout_s=30)
    feed_progress = system.db.feed_progress
    assert eventually(lambda: (feed_progress.find_one({"_id": "events"}) or {}).get("position") == end, timeout_s=30)
    background.halt()
    live = read_models(system.db)

    replayed = rebuild(system.db, system.app.all_envelopes())

    assert replayed == system.app.recorder.max_notification_id()
    assert read_models(system.db) == live


def test_a_poll_is_applied_for_a_bounded_time_and_the_rest_comes_with_the_next(servers, background, monkeypatch):
    from projectors import runner

    system = servers.system
    rebuild(system.db, system.app.all_envelopes())  # the read models are complete; the projector adds what follows
    record_workload(system, sessions=8)
    # Each poll gets at most one chunk of three events applied before it answers, however many it brought.
    monkeypatch.setattr(runner, "CHUNK", 3)
    monkeypatch.setattr(runner, "BATCH_BUDGET_S", 0.0)
    projector = system.projector()
    commits = []
    commit = projector.consumer.commit_async
    projector.consumer.commit_async = lambda *args, **options: commits.append(1) or commit(*args, **options)
    for component in (system.relay(), projector):
        background.run(component)

    assert eventually(lambda: applied_events(system.db) == system.app.recorder.max_notification_id(), timeout_s=60)
    assert len(commits) >= 8 * 2 / 3  # two events per session, three per poll at most
