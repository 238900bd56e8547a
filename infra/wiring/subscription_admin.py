"""`ocs admin`'s webhook subscription commands that read or move the delivery worker's progress rather than run a
command: list them, say how each is doing (cursor, lag, parked deliveries, last error), and ask for a replay."""

from pymongo.database import Database

from query_api.queries.events import event_filter
from schemas.errors import detail
from schemas.read_models import EVENTS
from workers.delivery_progress import DeliveryProgress
from workers.subscriptions import WebhookSubscription, start_of, webhook_subscriptions


def list_subscriptions(db: Database, team: str | None) -> dict:
    return {"subscriptions": [s.describe() for s in webhook_subscriptions(db, team, enabled_only=False)]}


def subscription_status(db: Database, team: str | None, subscription_id: str | None) -> dict:
    chosen = [s for s in webhook_subscriptions(db, team, enabled_only=False) if subscription_id in (None, s.id)]
    if subscription_id and not chosen:
        raise detail(404, f"subscription {subscription_id!r} does not exist")
    progress = DeliveryProgress(db)
    statuses = []
    for subscription in chosen:
        status = progress.status(subscription.id)
        cursor = start_of(db, subscription) if status["cursor"] is None else status["cursor"]
        statuses.append({**subscription.describe(), **status, "cursor": cursor, "lag": lag(db, subscription, cursor)})
    return {"subscriptions": statuses}


def lag(db: Database, subscription: WebhookSubscription, cursor: int) -> int:
    """Events of its types in its team's feed after its cursor (a channel's counts every channel's bot messages)."""
    after = {"team": subscription.team, "position": {"$gt": cursor}, **event_filter(subscription.event_types, None)}
    return db[EVENTS].count_documents(after)


def replay_subscription(db: Database, subscription_id: str, from_position: int | None) -> dict:
    if not any(s.id == subscription_id for s in webhook_subscriptions(db, enabled_only=False)):
        raise detail(404, f"subscription {subscription_id!r} does not exist")
    return {"subscription": subscription_id, **DeliveryProgress(db).request_replay(subscription_id, from_position)}
