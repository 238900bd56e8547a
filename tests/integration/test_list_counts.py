"""The lists' counters on the real MongoDB-protocol server: what counting the documents says, however often the
same events are applied, with tags added and removed and sessions of several chatbots."""

from collections import Counter

from command_api import commands
from projectors.rebuild import rebuild
from projectors.runner import apply
from schemas.read_models import LIST_COUNTS, PARTICIPANTS, SESSIONS
from tests.integration.conftest import record_workload
from tests.write_model import new_chatbot


def counted_by_counters(db, listing: str, team: str) -> Counter:
    counters = db[LIST_COUNTS].find({"listing": listing, "team": team})
    return Counter({(doc["dimension"], doc["value"]): doc["count"] for doc in counters if doc["count"]})


def sessions_by_documents(db, team: str) -> Counter:
    counted = Counter()
    for doc in db[SESSIONS].find({"team": team}):
        counted.update([("all", ""), ("chatbot", doc["experiment_id"])])
        counted.update(("tag", tag) for tag in doc["tags"])
        counted.update(("version", version) for version in doc["version_tags"])
        counted.update(("chatbot_tag", f"{doc['experiment_id']}|{tag}") for tag in doc["tags"])
        counted.update(("chatbot_version", f"{doc['experiment_id']}|{version}") for version in doc["version_tags"])
    return counted


def ends_by_documents(db, collection: str, team: str) -> dict:
    keys = sorted(doc["sort_key"] for doc in db[collection].find({"team": team}))
    return {"first_key": keys[0], "last_key": keys[-1]}


def team_counter(db, listing: str, team: str) -> dict:
    return db[LIST_COUNTS].find_one({"_id": f"{listing}|{team}|all|"}, {"first_key": 1, "last_key": 1, "_id": 0})


def test_counters_match_the_documents_after_every_event_is_applied_again(servers):
    system = servers.system
    first, second, third = record_workload(system, sessions=3)
    envelopes = list(system.app.all_envelopes())
    team = next(e["team"] for e in envelopes if e["aggregate_id"] == first)
    other_chatbot = new_chatbot(system.bus, team)
    system.bus.handle(commands.CreateSession(team=team, caller="admin", experiment=other_chatbot, participant="p9"))
    system.bus.handle(commands.TagSession(team=team, session_id=first, tags=("a", "b")))
    system.bus.handle(commands.TagSession(team=team, session_id=second, tags=("a",)))
    system.bus.handle(commands.TagSession(team=team, session_id=first, tags=("a",), remove=True))
    system.bus.handle(commands.TagSession(team=team, session_id=third, tags=("a",)))  # added twice, counted once
    system.bus.handle(commands.TagSession(team=team, session_id=third, tags=("a",)))
    envelopes = list(system.app.all_envelopes())

    rebuild(system.db, envelopes)
    counted_once = counted_by_counters(system.db, SESSIONS, team)
    apply(system.db, envelopes)
    apply(system.db, envelopes[len(envelopes) // 2 :])

    assert counted_by_counters(system.db, SESSIONS, team) == counted_once == sessions_by_documents(system.db, team)
    assert counted_once[("all", "")] == 4 and counted_once[("chatbot", other_chatbot)] == 1
    assert counted_once[("tag", "a")] == 2 and counted_once[("tag", "b")] == 1
    assert counted_by_counters(system.db, PARTICIPANTS, team) == {
        ("all", ""): system.db[PARTICIPANTS].count_documents({"team": team})
    }
    for listing in (SESSIONS, PARTICIPANTS):
        assert team_counter(system.db, listing, team) == ends_by_documents(system.db, listing, team)
