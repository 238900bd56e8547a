"""The teams' event feeds under a retention window, on the real MongoDB-protocol server: entries whose event occurred
before the window leave the feed, by an indexed range; a cursor older than the oldest entry kept starts there; without
a window every entry stays."""

from datetime import datetime, timedelta, timezone

from command_api import commands
from projectors.feed import FeedWriter, feed_writes
from projectors.indexes import ensure_indexes
from projectors.rebuild import rebuild
from query_api.queries.events import team_events
from schemas.read_models import EVENTS
from tests.integration.conftest import record_workload
from tests.stack import eventually


def caught_up(system, writer: FeedWriter) -> None:
    while writer.write_once():
        pass


def team_of(system, session_id: str) -> str:
    return system.db[EVENTS].find_one({"aggregate_id": session_id})["team"]


def tag(system, team: str, session_ids: list[str]) -> None:
    for session_id in session_ids:
        system.bus.handle(commands.TagSession(team=team, session_id=session_id, tags=("later",)))


def test_entries_older_than_the_window_leave_the_feed_and_an_older_cursor_starts_at_the_oldest_kept(servers):
    system = servers.system
    rebuild(system.db, system.app.all_envelopes())
    ensure_indexes(system.db)
    writer = FeedWriter(system.db, system.app.log_entries, system.beat("feed"), timedelta(seconds=1))
    session_ids = record_workload(system, sessions=2)
    caught_up(system, writer)
    team = team_of(system, session_ids[0])
    everything_before = team_events(system.db, team, 0, (), None, 1000)
    cut = datetime.now(timezone.utc)
    tag(system, team, session_ids)
    caught_up(system, writer)

    # As if the window (one second) had passed since the cut: what occurred before it goes, nothing after it.
    deleted = writer.prune(cut + timedelta(seconds=1))

    kept = team_events(system.db, team, 0, (), None, 1000)
    assert deleted >= len(everything_before) > 0
    assert [event["type"] for event in kept] == ["ChatSession.Tagged"] * len(session_ids)
    # A follower whose cursor points into what expired goes on from the oldest entry kept.
    stale_cursor = everything_before[0]["position"]
    assert team_events(system.db, team, stale_cursor, (), None, 1000) == kept
    # What the prune deletes is found by its index: the local server scans every document otherwise.
    plan = system.db[EVENTS].find({"occurred_at": {"$lt": cut}}).explain()["queryPlanner"]["winningPlan"]
    assert "IXSCAN" in str(plan)


def test_the_writer_prunes_by_itself_and_without_a_window_keeps_every_entry(servers, background):
    system = servers.system
    rebuild(system.db, system.app.all_envelopes())
    ensure_indexes(system.db)
    record_workload(system, sessions=1)
    end = system.app.recorder.max_notification_id()
    keeping = FeedWriter(system.db, system.app.log_entries, system.beat("feed"))
    caught_up(system, keeping)
    keeping.prune_when_due()
    assert system.db[EVENTS].count_documents({}) == len(feed_writes(system.app.all_envelopes())) > 0

    # A tiny window, pruned at every pass: every entry expires a moment after it is written.
    system.db["feed_progress"].delete_many({})
    background.run(
        FeedWriter(system.db, system.app.log_entries, system.beat("feed"), timedelta(milliseconds=1), prune_every_s=0)
    )
    assert eventually(lambda: (system.db.feed_progress.find_one() or {}).get("position") == end, timeout_s=30)
    assert eventually(lambda: system.db[EVENTS].count_documents({}) == 0, timeout_s=30)
