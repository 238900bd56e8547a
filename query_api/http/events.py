"""`GET /api/events/`: the caller's team's events, for subscribers without access to the broker."""

from flask import Blueprint, g, request
from pymongo.database import Database

from infra.permissions import EVENTS, guarded
from infra.web import json_response
from query_api.http.streams import event_stream
from query_api.queries.change_feed import ChangeFeed
from query_api.queries.events import event_filter, team_events
from schemas import representations
from schemas.errors import field_errors
from schemas.fields import decimal_digits

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Event types are `<Aggregate>.<Event>`; a filter names some, or all of an aggregate's as `<Aggregate>.*`.
MAX_TYPES = 50


def after_param(header: str | None = None) -> int:
    """The cursor to start after (a `next` the feed answered, or a stream's Last-Event-ID `header`); none: from the
    oldest event kept."""
    raw = (header or request.args.get("after", "")).strip()
    if not raw:
        return 0
    if not decimal_digits(raw) or len(raw) > 18:
        raise field_errors({"after": ["Not a cursor this feed answered."]})
    return int(raw)


def limit_param() -> int:
    raw = request.args.get("limit", "").strip()
    if not raw:
        return DEFAULT_LIMIT
    if not decimal_digits(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise field_errors({"limit": [f"Ensure this value is between 1 and {MAX_LIMIT}."]})
    return int(raw)


def types_param() -> tuple[str, ...]:
    types = tuple(name.strip() for name in request.args.get("types", "").split(",") if name.strip())
    if len(types) > MAX_TYPES or any(len(name) > 100 for name in types):
        raise field_errors({"types": [f"At most {MAX_TYPES} event types of at most 100 characters."]})
    return types


def aggregate_param() -> str | None:
    return request.args.get("aggregate_id", "").strip()[:100] or None


def render(doc: dict) -> str:
    """One event of the stream: its cursor as `id`, so a reconnect's Last-Event-ID resumes right after it."""
    return f"id: {doc['position']}\nevent: {doc['type']}\ndata: {doc['envelope']}\n\n"


def events_blueprint(db: Database, feed: ChangeFeed) -> Blueprint:
    api = Blueprint("events", __name__)

    @api.get("/events/")
    @guarded(EVENTS)
    def event_list():
        after, limit, types = after_param(), limit_param(), types_param()
        events = team_events(db, g.caller.team, after, types, aggregate_param(), limit)
        return json_response(representations.event_page(events, after))

    @api.get("/events/stream/", endpoint="event_stream")
    @guarded(EVENTS)
    def event_stream_of_team():
        """Server-sent events: each of the team's events as it is written to the feed, after `Last-Event-ID` (or
        `after`): a reconnect resumes with no gap and no repeat."""
        after = after_param(request.headers.get("Last-Event-ID"))
        only = event_filter(types_param(), aggregate_param())
        return event_stream(feed, g.caller.team, after, render, only)

    return api
