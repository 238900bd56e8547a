"""The webhook subscriptions the delivery worker serves, as the read models hold them: teams' own subscriptions
(`ocs admin create-subscription`), and each messaging channel with a webhook URL, which is its channel's
subscription of its own bot messages (`ChatSession.BotMessageSent` naming the channel), delivered the same way."""

from dataclasses import dataclass

from pymongo.database import Database

from schemas.events import CHAT_SESSION_BOT_MESSAGE_SENT
from schemas.read_models import EVENTS, MESSAGING_CHANNELS, SUBSCRIPTIONS


@dataclass(frozen=True)
class WebhookSubscription:
    id: str
    team: str
    url: str
    event_types: tuple[str, ...]
    # The feed position deliveries start after: the subscription's (or channel's) creation; None for a channel
    # projected before its read model kept it, which starts at its team's feed's end instead of sending its history.
    start_after: int | None
    enabled: bool = True
    channel_id: str | None = None  # a channel's: only the bot messages sent on it

    def wants(self, envelope: dict) -> bool:
        """Beside its types (which the feed filters by): a channel's subscription wants its own messages only."""
        return self.channel_id is None or envelope["data"].get("channel_id") == self.channel_id

    def describe(self) -> dict:
        return {
            "id": self.id,
            "team": self.team,
            "url": self.url,
            "event_types": list(self.event_types),
            "enabled": self.enabled,
            "channel_id": self.channel_id,
        }


def webhook_subscriptions(
    db: Database, team: str | None = None, enabled_only: bool = True
) -> list[WebhookSubscription]:
    """Subscriptions (of one team, or all), teams' own first, then channels', each in creation order."""
    where = {"team": team} if team else {}
    own = db[SUBSCRIPTIONS].find({**where, **({"enabled": True} if enabled_only else {})}).sort("position", 1)
    channels = db[MESSAGING_CHANNELS].find({**where, "webhook_url": {"$ne": None}}).sort("position", 1)
    return [
        WebhookSubscription(
            doc["_id"], doc["team"], doc["url"], tuple(doc["event_types"]), doc["position"], doc["enabled"]
        )
        for doc in own
    ] + [
        WebhookSubscription(
            doc["_id"],
            doc["team"],
            doc["webhook_url"],
            (CHAT_SESSION_BOT_MESSAGE_SENT,),
            doc.get("position"),
            channel_id=doc["_id"],
        )
        for doc in channels
    ]


def still_enabled(db: Database, subscription: WebhookSubscription) -> bool:
    """Whether it is enabled now, not when it was listed: once `disable-subscription` answers, nothing more goes."""
    if subscription.channel_id is not None:
        return True  # a channel's webhook stays as long as the channel
    return db[SUBSCRIPTIONS].find_one({"_id": subscription.id, "enabled": True}, {"_id": 1}) is not None


def start_of(db: Database, subscription: WebhookSubscription) -> int:
    """The feed position a subscription's deliveries start after."""
    if subscription.start_after is not None:
        return subscription.start_after
    last = db[EVENTS].find_one({"team": subscription.team}, {"position": 1}, sort=[("position", -1)])
    return last["position"] if last else 0
