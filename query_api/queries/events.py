"""A team's event feed (`GET /api/events/`): its events after a log position, in log order, optionally only some
types (exact, or every type of an aggregate as `ChatSession.*`) or one aggregate's."""

import json
import re

from pymongo.database import Database

from schemas.read_models import EVENTS


def type_filter(types: tuple[str, ...]) -> dict:
    exact = [name for name in types if not name.endswith(".*")]
    prefixes = [re.escape(name[:-1]) for name in types if name.endswith(".*")]
    either = ([{"type": {"$in": exact}}] if exact else []) + (
        [{"type": {"$regex": f"^(?:{'|'.join(prefixes)})"}}] if prefixes else []
    )
    return either[0] if len(either) == 1 else {"$or": either}


def event_filter(types: tuple[str, ...], aggregate_id: str | None) -> dict:
    """What the events a reader asked for match, beside their team and position."""
    query = type_filter(types) if types else {}
    if aggregate_id:
        query["aggregate_id"] = aggregate_id
    return query


def team_events(
    db: Database, team: str, after: int, types: tuple[str, ...], aggregate_id: str | None, limit: int
) -> list[dict]:
    """Up to `limit` envelopes of the team's events after log position `after`, in log order."""
    query: dict = {"team": team, "position": {"$gt": after}, **event_filter(types, aggregate_id)}
    docs = db[EVENTS].find(query, {"envelope": 1}).sort("position", 1).limit(limit)
    return [json.loads(doc["envelope"]) for doc in docs]
