"""Webhook subscriptions of a team's events: created (in a free slot of the team's) and disabled."""

from command_api import commands
from command_api.domain.subscription import (
    MAX_EVENT_TYPES,
    MAX_PER_TEAM,
    Subscription,
    event_type_problem,
    subscription_id,
    webhook_url_problem,
)
from command_api.handlers.teams_and_keys import Outcome, require_team
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import detail


def create_subscription(command: commands.CreateSubscription, app: OcsApplication) -> Outcome:
    require_team(app, command.team)
    problem = webhook_url_problem(command.url)
    if problem:
        raise detail(400, problem)
    if len(command.event_types) > MAX_EVENT_TYPES:
        raise detail(400, f"at most {MAX_EVENT_TYPES} event types")
    for name in command.event_types:
        if problem := event_type_problem(name):
            raise detail(400, problem)
    slot = next(
        (n for n in range(1, MAX_PER_TEAM + 1) if load(app, subscription_id(command.team, n), Subscription) is None),
        None,
    )
    if slot is None:
        raise detail(409, f"the team has {MAX_PER_TEAM} subscriptions already, the most it may have")
    subscription = Subscription(
        id=subscription_id(command.team, slot),
        team=command.team,
        url=command.url,
        event_types=list(dict.fromkeys(command.event_types)),
    )
    app.save(subscription)
    return Outcome(subscription_body(subscription), subscription)


def disable_subscription(command: commands.DisableSubscription, app: OcsApplication) -> Outcome:
    subscription = load(app, command.subscription_id, Subscription)
    if subscription is None:
        raise detail(404, f"subscription {command.subscription_id!r} does not exist")
    subscription.disable()
    app.save(subscription)
    return Outcome(subscription_body(subscription), subscription)


def subscription_body(subscription: Subscription) -> dict:
    return {
        "id": str(subscription.id),
        "team": subscription.team,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "enabled": subscription.enabled,
    }
