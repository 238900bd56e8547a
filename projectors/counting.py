"""Counting a batch's events exactly once: usage (`projections/usage.py`) and the lists' counts
(`projections/list_counts.py`). Every event of a chat session moves how far the session is counted
(`counting_progress`: its last version seen here, whether it is engaged yet, and what it is listed under), and a
batch's increments and progress are written in one MongoDB transaction. As every read model's exact-version guard
does, an event applies only right after the previous version of its session: one at or below it was counted already
(a redelivery, a replay), one further on is out of turn (the live projector during a rebuild, which then replays it
in turn). A participant counts once, when created, and its progress says it was. A failure anywhere leaves neither
counters nor progress moved, so the batch is counted again whole.

The batch is counted before its read-model writes, so a list never shows a document its count leaves out (a client
that waited for its session sees it counted). The counted events' sessions say whose usage it is (chatbot,
participant, platform) and when it started: read in the same transaction, or taken from their creation in the batch."""

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from pymongo import UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from infra.recent import Recent
from projectors.projections.list_counts import LISTING_EVENTS, ListCounts, listed_after
from projectors.projections.usage import COUNTED, Counters
from schemas import events
from schemas.events import PAYLOAD_SCHEMAS
from schemas.read_models import COUNTING_PROGRESS, LIST_COUNTS, SESSIONS, USAGE

CHAT_SESSION = "ChatSession"

ATTRIBUTION = {"experiment_id": 1, "participant_id": 1, "platform": 1, "created_at": 1}
# The attributions of the sessions counted last (more than are chatting at once on a busy stack, ~200 bytes each).
# A session's is fixed when it is created, so one read once is never stale: a chunk of a chat's events then counts
# without reading its session (a MongoDB read a chunk, about a tenth of the projector's commands at one chat user).
ATTRIBUTIONS = Recent(kept=20_000)


class SessionUnknown(Exception):
    """A session's usage before its session is projected: its creation was parked, so this event is parked too."""


@dataclass(frozen=True)
class Counting:
    """A projector's way of counting: `session`, the one its transactions run in (its heartbeat names it, so that
    one it leaves open when killed can be ended), and `unblock`, called before each retry of a transaction that
    conflicted: it ends what replicas gone silent left open (`infra.group_members.GroupMembers.unblock`)."""

    session: ClientSession
    unblock: Callable[[], None]


def count_events(db: Database, envelopes: list[dict], counting: Counting | None = None) -> None:
    """`counting`: a projector's (above); a session of its own, and nothing to unblock, when None."""
    counted = [envelope for envelope in envelopes if is_counted(envelope)]
    if not counted:
        return
    tries = 0

    def count(txn: ClientSession) -> None:
        nonlocal tries
        tries += 1
        if tries > 1 and counting:
            counting.unblock()
        count_once(db, counted, txn)

    with nullcontext(counting.session) if counting else db.client.start_session() as session:
        session.with_transaction(count)


def is_counted(envelope: dict) -> bool:
    return envelope["aggregate_type"] == CHAT_SESSION or envelope["type"] == events.PARTICIPANT_CREATED


def attribution(envelope: dict) -> dict:
    """A session's attribution, as its creation event gives it (the same fields its read-model document has)."""
    data = envelope["data"]
    return {
        "_id": envelope["aggregate_id"],
        "experiment_id": data["chatbot_id"],
        "participant_id": data["participant_id"],
        "platform": data["platform"],
        "created_at": envelope["occurred_at"],
    }


def count_once(db: Database, envelopes: list[dict], txn: ClientSession) -> None:
    """Everything here is read and written in `txn`; MongoDB runs it again whole after a transient conflict."""
    ids = list({envelope["aggregate_id"] for envelope in envelopes})
    progress = {doc["_id"]: doc for doc in db[COUNTING_PROGRESS].find({"_id": {"$in": ids}}, session=txn)}
    created = {e["aggregate_id"]: attribution(e) for e in envelopes if e["type"] == events.CHAT_SESSION_CREATED}
    sessions = ATTRIBUTIONS.of(ids) | created
    if unknown := [session_id for session_id in ids if session_id not in sessions]:
        sessions |= {doc["_id"]: doc for doc in db[SESSIONS].find({"_id": {"$in": unknown}}, ATTRIBUTION, session=txn)}
    moved = {}
    usage, lists = Counters(), ListCounts()
    for envelope in envelopes:
        doc_id, version = envelope["aggregate_id"], envelope["aggregate_version"]
        if envelope["aggregate_type"] != CHAT_SESSION:
            if doc_id not in progress:
                lists.participant_created(envelope)
                progress[doc_id] = moved[doc_id] = {"version": version}
            continue
        counted = progress.get(doc_id, {"version": 0, "engaged": False, "listed": None})
        if version != counted["version"] + 1:
            continue
        # Only what counts is read (an event of a type this version does not know is not, and moves only the version).
        reads = envelope["type"] in COUNTED or envelope["type"] in LISTING_EVENTS
        data = PAYLOAD_SCHEMAS[envelope["type"]].load(envelope["data"]) if reads else {}
        engaged = counted["engaged"]
        if envelope["type"] in COUNTED:
            if doc_id not in sessions:
                raise SessionUnknown(doc_id)
            engaged = usage.count(envelope, data, sessions[doc_id], engaged)
        listed = listed_after(counted.get("listed"), envelope, data)
        lists.session_moved(envelope, counted.get("listed"), listed)
        progress[doc_id] = moved[doc_id] = {"version": version, "engaged": engaged, "listed": listed}
    ATTRIBUTIONS.keep({session_id: sessions[session_id] for session_id in ids if session_id in sessions})
    if usage.added:
        writes = [
            UpdateOne({"_id": doc_id}, {"$inc": dict(added), "$setOnInsert": usage.placed[doc_id]}, upsert=True)
            for doc_id, added in usage.added.items()
        ]
        db[USAGE].bulk_write(writes, ordered=False, session=txn)
    if counters := lists.writes():
        writes = [UpdateOne({"_id": doc_id}, update, upsert=True) for doc_id, update in counters]
        db[LIST_COUNTS].bulk_write(writes, ordered=False, session=txn)
    if moved:
        marks = [UpdateOne({"_id": doc_id}, {"$set": counted}, upsert=True) for doc_id, counted in moved.items()]
        db[COUNTING_PROGRESS].bulk_write(marks, ordered=False, session=txn)
