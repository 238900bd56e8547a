"""Server-sent event streams of a change feed: what arrives for the stream's key, each rendered as one event, with
keepalive comments while nothing does, for at most STREAM_MAX_S (EventSource clients reconnect by themselves, with
the Last-Event-ID of the last event they received)."""

import time
from collections.abc import Callable

from flask import Response, stream_with_context

from query_api.queries.change_feed import ChangeFeed
from query_api.queries.reply_deltas import DeltaFeed

STREAM_KEEPALIVE_S = 15
STREAM_MAX_S = 300


def event_stream(
    feed: ChangeFeed,
    key: str,
    since,
    render: Callable[[object], str],
    only: dict | None = None,
    deltas: DeltaFeed | None = None,
):
    """`since`: the order value of the last document the client has (None: all of them); `deltas`: the replies
    being generated, whose deltas the stream also carries (`render` gets each; what it renders as "" is skipped)."""

    def events():
        subscription = feed.subscribe(key, since, only)
        if deltas is not None:
            deltas.subscribe(key, subscription)
        started = time.monotonic()
        try:
            yield ": open\n\n"  # the answer's head goes out now, not with the first event (EventSource's open)
            while time.monotonic() - started < STREAM_MAX_S:
                items = subscription.wait(STREAM_KEEPALIVE_S)
                for item in items:
                    if rendered := render(item):
                        yield rendered
                if not items:
                    yield ": keepalive\n\n"
        finally:
            if deltas is not None:
                deltas.unsubscribe(key, subscription)
            feed.unsubscribe(subscription)

    return Response(
        stream_with_context(events()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
