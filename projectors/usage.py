"""Counting usage (`projections/usage.py`) needs to know whose it is: the counted events' sessions are read once per
batch, after the batch's own writes (a session created in the same batch is there by then)."""

from pymongo import UpdateOne
from pymongo.database import Database

from projectors.projections.usage import COUNTED, usage_writes
from schemas.events import PAYLOAD_SCHEMAS
from schemas.read_models import SESSIONS

ATTRIBUTION = {"experiment_id": 1, "participant_id": 1, "platform": 1}


class SessionUnknown(Exception):
    """A session's usage before its session is projected: its creation was parked, so this event is parked too."""


def counted_usage(db: Database, envelopes: list[dict]) -> list[UpdateOne]:
    counted = [envelope for envelope in envelopes if envelope["type"] in COUNTED]
    if not counted:
        return []
    session_ids = list({envelope["aggregate_id"] for envelope in counted})
    sessions = {doc["_id"]: doc for doc in db[SESSIONS].find({"_id": {"$in": session_ids}}, ATTRIBUTION)}
    writes = []
    for envelope in counted:
        session = sessions.get(envelope["aggregate_id"])
        if session is None:
            raise SessionUnknown(envelope["aggregate_id"])
        writes += usage_writes(envelope, PAYLOAD_SCHEMAS[envelope["type"]].load(envelope["data"]), session)
    return writes
