"""Webhook subscriptions, as the delivery worker lists them (`workers.subscriptions`) and `ocs admin
list-subscriptions` shows them."""

from projectors.projections.writes import Write, change, create
from schemas.read_models import SUBSCRIPTIONS


def subscription_created(envelope: dict, data: dict) -> list[Write]:
    doc = {
        "url": data["url"],
        "event_types": data["event_types"],
        "enabled": True,
        "created_at": envelope["occurred_at"],
        # Deliveries start after its own creation in the team's feed.
        "position": envelope["position"],
    }
    return [create(SUBSCRIPTIONS, envelope, doc)]


def subscription_disabled(envelope: dict, data: dict) -> list[Write]:
    return [change(SUBSCRIPTIONS, envelope, {"$set": {"enabled": False}})]
