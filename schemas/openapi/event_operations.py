"""The text of the event feed's operations (beyond OCS): a team's events over HTTP, by pull and by stream."""

from schemas import responses as r
from schemas.openapi.building_blocks import TEAM, answer, query_param, unauthenticated

CREDENTIALS = "Needs a key whose role may read sessions, or a token with `events:read`."


def filters() -> list[dict]:
    return [
        query_param("types", "comma-separated event types (at most 50); `ChatSession.*`: all of an aggregate's"),
        query_param("aggregate_id", "only this aggregate's events"),
    ]


def refusals() -> dict:
    return {
        "400": answer("an invalid cursor, limit or type list", r.FieldErrors),
        "401": unauthenticated(),
        "403": answer("a credential that may not read the team's sessions", r.Detail),
    }


def event_operations() -> dict:
    return {
        "event_list": {
            "summary": "The team's events, in log order",
            "description": "Each event as published to the broker (docs/events.md), the team's own only; credentials' "
            "events are left out. Follow the feed by asking again `after` the `next` cursor. " + CREDENTIALS,
            "tags": ["Events"],
            "security": TEAM,
            "parameters": [
                query_param("after", "a `next` cursor this feed answered: start after it (default: from the oldest)"),
                *filters(),
                query_param("limit", "at most this many events (default 100, at most 1000)", type="integer"),
            ],
            "responses": {"200": answer("the events, and the cursor to go on from", r.EventPage), **refusals()},
        },
        "event_stream": {
            "summary": "The team's events as they happen (server-sent events)",
            "description": "One event per event of the team, as `id: <cursor>`, `event: <type>`, `data: <envelope>`, "
            "after `Last-Event-ID` (or `after`): a reconnect resumes right after the last event received, with no gap "
            "and no repeat. Keepalive comments every 15 s; the stream closes after five minutes (clients reconnect). "
            + CREDENTIALS,
            "tags": ["Events"],
            "security": TEAM,
            "parameters": [
                query_param("after", "a cursor: start after it (default: from the oldest)"),
                *filters(),
                {"in": "header", "name": "Last-Event-ID", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": answer("the event stream", {"description": "one envelope per event"}, media="text/event-stream"),
                **refusals(),
            },
        },
    }
