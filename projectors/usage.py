"""Counting usage (`projections/usage.py`) exactly once per event. Every event of a chat session moves how far the
session is counted (`usage_progress`: its last version seen here, and whether it is engaged yet), and a batch's
increments and progress are written in one MongoDB transaction. As every read model's exact-version guard does, an
event applies only right after the previous version of its session: one at or below it was counted already (a
redelivery, a replay), one further on is out of turn (the live projector during a rebuild, which then replays it in
turn). A failure anywhere leaves neither counters nor progress moved, so the batch is counted again whole.

The counted events' sessions say whose usage it is (chatbot, participant, platform) and when it started: they are
read in the same transaction, after the batch's own writes (a session created in the same batch is there by then)."""

from pymongo import UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from projectors.projections.usage import COUNTED, Counters
from schemas.events import PAYLOAD_SCHEMAS
from schemas.read_models import SESSIONS, USAGE, USAGE_PROGRESS

CHAT_SESSION = "ChatSession"

ATTRIBUTION = {"experiment_id": 1, "participant_id": 1, "platform": 1, "created_at": 1}


class SessionUnknown(Exception):
    """A session's usage before its session is projected: its creation was parked, so this event is parked too."""


def count_usage(db: Database, envelopes: list[dict]) -> None:
    of_sessions = [envelope for envelope in envelopes if envelope["aggregate_type"] == CHAT_SESSION]
    if of_sessions:
        with db.client.start_session() as session:
            session.with_transaction(lambda txn: count_once(db, of_sessions, txn))


def count_once(db: Database, envelopes: list[dict], txn: ClientSession) -> None:
    """Everything here is read and written in `txn`; MongoDB runs it again whole after a transient conflict."""
    session_ids = list({envelope["aggregate_id"] for envelope in envelopes})
    sessions = {doc["_id"]: doc for doc in db[SESSIONS].find({"_id": {"$in": session_ids}}, ATTRIBUTION, session=txn)}
    progress = {doc["_id"]: doc for doc in db[USAGE_PROGRESS].find({"_id": {"$in": session_ids}}, session=txn)}
    moved = {}
    counters = Counters()
    for envelope in envelopes:
        session_id, version = envelope["aggregate_id"], envelope["aggregate_version"]
        counted = progress.get(session_id, {"version": 0, "engaged": False})
        if version != counted["version"] + 1:
            continue
        engaged = counted["engaged"]
        if envelope["type"] in COUNTED:
            if session_id not in sessions:
                raise SessionUnknown(session_id)
            data = PAYLOAD_SCHEMAS[envelope["type"]].load(envelope["data"])
            engaged = counters.count(envelope, data, sessions[session_id], engaged)
        progress[session_id] = moved[session_id] = {"version": version, "engaged": engaged}
    if counters.added:
        writes = [
            UpdateOne({"_id": doc_id}, {"$inc": dict(added), "$setOnInsert": counters.placed[doc_id]}, upsert=True)
            for doc_id, added in counters.added.items()
        ]
        db[USAGE].bulk_write(writes, ordered=False, session=txn)
    if moved:
        marks = [UpdateOne({"_id": sid}, {"$set": counted}, upsert=True) for sid, counted in moved.items()]
        db[USAGE_PROGRESS].bulk_write(marks, ordered=False, session=txn)
