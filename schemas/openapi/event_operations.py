"""The text of the event feed's operation (beyond OCS): a team's events over HTTP."""

from schemas import responses as r
from schemas.openapi.building_blocks import TEAM, answer, query_param, unauthenticated


def event_operations() -> dict:
    return {
        "event_list": {
            "summary": "The team's events, in log order",
            "description": "Each event as published to the broker (docs/events.md), the team's own only; credentials' "
            "events are left out. Follow the feed by asking again `after` the `next` cursor. Needs a key whose role "
            "may read sessions, or a token with `events:read`.",
            "tags": ["Events"],
            "security": TEAM,
            "parameters": [
                query_param("after", "a `next` cursor this feed answered: start after it (default: from the oldest)"),
                query_param(
                    "types",
                    "comma-separated event types; `ChatSession.*` names every type of an aggregate (at most 50)",
                ),
                query_param("aggregate_id", "only this aggregate's events"),
                query_param("limit", "at most this many events (default 100, at most 1000)", type="integer"),
            ],
            "responses": {
                "200": answer("the events, and the cursor to go on from", r.EventPage),
                "400": answer("an invalid cursor, limit or type list", r.FieldErrors),
                "401": unauthenticated(),
                "403": answer("a credential that may not read the team's sessions", r.Detail),
            },
        },
    }
