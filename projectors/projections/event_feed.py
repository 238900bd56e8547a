"""Each team's event feed: every event of the team, in log order, as its envelope was published. Credentials'
events are left out (they carry secrets' hashes, and no team has a use for them), and so are webhook
subscriptions' (their URLs often carry a receiver's token); the envelope is kept as JSON text, since client JSON
inside it may have field names MongoDB cannot store."""

from pymongo import InsertOne

from projectors.projections.writes import Write
from schemas.read_models import EVENTS, stored_json

NOT_IN_FEED = ("ApiKey", "OAuthClient", "AuthorizationCode", "OAuthToken", "Subscription")


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
        "envelope": stored_json(envelope),
    }
    return [(EVENTS, InsertOne(doc))]
