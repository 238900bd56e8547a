"""A team's webhook subscription: where its events of some types are POSTed, and whether it still is.

Its signing secret is derived from the server's secret key and its id (`infra.secrets.webhook_secret`), so no
event records it. A team holds at most `MAX_PER_TEAM` subscriptions, disabled ones included: a subscription's id
is its team's n-th slot (`subscription_id`), which makes the limit a decision of the write model (two creates of
one slot conflict) without a counter anywhere.
"""

from urllib.parse import urlsplit
from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.events import PAYLOADS, TOPICS
from schemas.ids import derived_id

MAX_PER_TEAM = 20
MAX_URL_LENGTH = 2000
MAX_EVENT_TYPES = 50


class Subscription(OcsAggregate):
    class Created(OcsAggregate.Created):
        url: str
        event_types: list

    class Disabled(OcsAggregate.Event):
        def apply(self, subscription: "Subscription") -> None:
            subscription.enabled = False

    def __init__(self, id: UUID, team: str, url: str, event_types: list):
        self.team = team
        self.url = url
        self.event_types = event_types
        self.enabled = True

    def disable(self) -> None:
        if self.enabled:
            self.trigger_event(self.Disabled)


def subscription_id(team: str, slot: int) -> UUID:
    return derived_id("subscription", team, str(slot))


def webhook_url_problem(url: str) -> str | None:
    """Why a webhook URL cannot be POSTed to, or None: http or https with a host, of bounded length."""
    if len(url) > MAX_URL_LENGTH:
        return f"a webhook URL is at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        addressed = bool(parts.hostname) and (parts.port is None or parts.port > 0)  # .port: ValueError if no number
    except ValueError:
        return f"{url!r} is not a URL"
    if parts.scheme not in ("http", "https") or not addressed:
        return f"{url!r} is not an http or https URL"
    return None


def event_type_problem(name: str) -> str | None:
    """Why `name` names no event type the feed holds, or None: an exact type, or `<Aggregate>.*`."""
    aggregate, _, event = name.partition(".")
    if (event == "*" and aggregate in TOPICS) or name in PAYLOADS:
        return None
    return f"{name!r} is no event type: use one of docs/events.md, or <Aggregate>.* for all of an aggregate's"
