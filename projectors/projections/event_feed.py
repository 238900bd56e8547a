"""Each team's event feed: every event of the team, in log order, as its envelope was published. Credentials'
events are left out (they carry secrets' hashes, and no team has a use for them), and so are webhook
subscriptions' (their URLs often carry a receiver's token); the envelope is kept as JSON text, since client JSON
inside it may have field names MongoDB cannot store. Its instant is kept beside it as a date, by which the feed
writer drops the entries older than the retention window (`projectors/feed.py`)."""

from pymongo import InsertOne

from projectors.projections.writes import Write
from schemas.events import NOT_IN_FEED
from schemas.instants import parse_instant
from schemas.read_models import EVENTS, stored_json


def feed_entry(envelope: dict) -> list[Write]:
    """A plain insert: a replayed event's duplicate is skipped (`projectors.runner.apply`)."""
    if envelope["aggregate_type"] in NOT_IN_FEED:
        return []
    doc = {
        "_id": envelope["event_id"],
        "team": envelope["team"],
        "position": envelope["position"],
        "type": envelope["type"],
        "aggregate_id": envelope["aggregate_id"],
        "occurred_at": parse_instant(envelope["occurred_at"]),
        "envelope": stored_json(envelope),
    }
    return [(EVENTS, InsertOne(doc))]
