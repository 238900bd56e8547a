"""Renders docs/events.md, the event contract for subscribers, from `schemas.events`.

Run `python -m schemas.event_docs > docs/events.md`; a test fails when the file is out of date.
"""

from marshmallow import Schema, fields

from schemas.events import DEAD_LETTER_TOPIC, PAYLOADS, SCHEMA_VERSIONS, TOPICS, DeadLetter, Envelope, payload_summary
from schemas.reply_deltas import REPLY_DELTAS_TOPIC, ReplyDelta

INTRO = """# Events: the contract for subscribers

Every change to the system is an event, recorded first in the event store and then published to Kafka
by the relay. Subscribers read these topics with their own consumer group. Delivery is at least once:
use `event_id` (or `aggregate_id` + `aggregate_version`) to ignore an event you have already handled.
Within one aggregate, events arrive in `aggregate_version` order, because the message key is the
aggregate id and one key stays on one partition.

Compatibility: a field may be added to a payload within the same `schema_version`; renaming or
removing one raises the type's `schema_version`. Ignore fields you do not know.

This file is generated from `schemas/events.py` and `schemas/event_payloads.py` by
`python -m schemas.event_docs > docs/events.md`.
"""


def field_type(field: fields.Field) -> str:
    if isinstance(field, fields.Nested):
        return f"object ({type(field.schema).__name__})"
    if isinstance(field, fields.List):
        return f"list of {field_type(field.inner)}"
    return {
        fields.Str: "string",
        fields.Int: "integer",
        fields.Bool: "boolean",
        fields.Dict: "object",
    }.get(type(field), type(field).__name__)


def field_rows(schema: Schema) -> list[str]:
    rows = []
    for name, field in schema.fields.items():
        nullable = " or null" if field.allow_none else ""
        description = field.metadata.get("description", "")
        rows.append(f"| `{name}` | {field_type(field)}{nullable} | {description} |")
    return rows


def nested_schemas(schema: Schema) -> list[Schema]:
    found = []
    for field in schema.fields.values():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            found.append(inner.schema)
    return found


def table(schema: Schema) -> list[str]:
    if not schema.fields:
        return ["No fields.", ""]
    return ["| field | type | meaning |", "|---|---|---|", *field_rows(schema), ""]


SUBSCRIBING = """## Subscribing

- **Kafka**, for the operator's own services: the topics below hold every team's events; read them with a
  consumer group of your own (each event's `team` says whose it is). A topic keeps a record for
  `OCS_KAFKA_RETENTION_MS` (7 days; a minute on `ocs up`'s local broker) after the system's own groups have read
  it, each partition's last record always; a subscriber away longer starts again from the oldest record kept, and
  finds the whole history in the event store (or, for one team, its feed).
- **The team's feed over HTTP**, for a team's own integrations, with nothing but its API key (a role that may
  read sessions) or an OAuth token with `events:read`: `GET /api/events/` answers
  `{"events": [<envelope>, ...], "next": "<cursor>"}`, the team's events in log order (`position` increasing),
  each envelope exactly as published; ask again with `after=<next>` to go on (the same cursor comes back while
  nothing new has happened). `types=ChatSession.*,Team.Created` (exact types, or all of an aggregate's with
  `.*`), `aggregate_id=` and `limit=` (default 100, at most 1000) narrow it. Credentials' events (`ApiKey`,
  `OAuthClient`, `AuthorizationCode`, `OAuthToken`, `CookieSession`) are not in any team's feed: they carry
  secrets' hashes; nor are webhook subscriptions' (`Subscription`), whose URLs often hold a receiver's token. The
  feed is written from the event store's log in log order (`projectors/feed.py`), a moment after each write:
  whoever has seen an event has seen every earlier one of the team. Every event is kept, unless the operator sets a
  retention window (`OCS_EVENT_FEED_RETENTION_DAYS`): then events older than it leave the feed, and a cursor older
  than the oldest event kept goes on from the oldest kept.
- **The team's stream**, the same events as they happen: `GET /api/events/stream/` (server-sent events, the same
  filters) sends each as `id: <cursor>`, `event: <type>`, `data: <envelope>`; reconnecting with `Last-Event-ID`
  (EventSource does it by itself) or `after=` resumes right after the last event received, with no gap and no
  repeat. Keepalive comments every 15 s; a stream closes after five minutes.

The AsyncAPI 3.0 document `GET /api/events/asyncapi.json` (no credential needed) describes all of this for tools:
each topic, the feed, the stream and webhook deliveries, exactly which event types each carries, and each type's
envelope and payload as JSON Schema. It is generated from the same schemas as this file (`schemas/asyncapi.py`).

```python
import time, requests

after, headers = None, {"X-api-key": KEY}
while True:
    page = requests.get(f"{BASE}/api/events/", params={"after": after} if after else {}, headers=headers).json()
    for event in page["events"]:
        handle(event)  # at least once across restarts of this loop: keep `next` with what you handled
    after = page["next"]
    if not page["events"]:
        time.sleep(1)
```

### Webhooks

For a team's integrations that would rather be called than ask: an operator runs
`ocs admin create-subscription --team S --url https://... --events "ChatSession.*,Participant.Created"` (exact
types or `<Aggregate>.*`, as the feed's `types=`; omitted: every event), which prints the subscription's `id` and
its signing `secret`, once (the secret is derived from the server's key, never stored). From then on each of the
team's events of those types is POSTed to the URL, one request per event:

- body: the envelope exactly as `GET /api/events/` answers it (`position` included), UTF-8 JSON;
- `Content-Type: application/json`, `X-OCS-Event-Id: <event_id>`, `X-OCS-Subscription-Id: <subscription id>`;
- `X-OCS-Timestamp: <unix seconds>`, when this attempt was signed;
- `X-OCS-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.

What it promises:

- **Order.** A subscription's events go out one at a time, in log order: each aggregate's in `aggregate_version`
  order (and everything in `position` order, but for what waits behind a parked event, below).
- **At least once.** An event is delivered when the receiver answers 2xx within the timeout (10 s by default);
  the subscription's place in the feed moves only after that, so a restart of the delivery worker can send an
  event again: de-duplicate by `X-OCS-Event-Id`. Redirects are not followed (a 3xx is a failed attempt).
- **Retries, then parking.** A failed attempt (no answer, a timeout, anything but 2xx) is tried again after a
  backoff (0.5 s, doubling; 5 attempts by default), without holding up other subscriptions. Then the event is
  parked, and every later event of its aggregate is parked behind it, in order, while other aggregates' go on.
  `ocs admin subscription-status` shows each subscription's cursor, lag, parked deliveries and last error;
  `ocs admin replay-subscription --subscription ID` delivers the parked ones again, in order, before anything new.
- **Resume.** A subscription starts after its own creation. `replay-subscription --from <cursor>` (a `position`,
  or a `next` of the feed) delivers everything after that position again, for a receiver that lost what it had;
  the feed keeps every event, so `--from 0` reaches the team's whole history.
- **Isolation.** A subscription only ever reads its own team's feed.
- **Stopping.** Once `ocs admin disable-subscription --subscription ID` has answered, nothing more is sent to it
  but the one attempt that may be in flight.

A messaging channel's webhook (`ocs admin create-channel ... --webhook-url URL`) is the same mechanism: the
channel's own subscription of its `ChatSession.BotMessageSent` events (the outbound message is the envelope's
`data`), with the same headers, signature, retries and parking; `X-OCS-Subscription-Id` is the channel's id and its
secret the `webhook_secret` create-channel printed. A delivered bot message is also recorded on its session
(`ChatSession.DeliveryRecorded`).

A receiver, with Python's standard library (`handle` is yours; when it raises, the request gets no answer, and the
event comes again):

```python
{receiver}```
"""


# Run by tests/e2e/test_webhook_subscriptions.py as written here.
WEBHOOK_RECEIVER = """import hashlib, hmac, json, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "..."  # printed once by `ocs admin create-subscription`
MAX_AGE_S = 300  # refuse a delivery signed longer ago: someone sending a captured one again
seen = set()  # event ids handled; keep them with what handling changed (a table), not in memory


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers.get("X-OCS-Timestamp", "")
        signed = f"{timestamp}.".encode() + body
        expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        fresh = timestamp.isascii() and timestamp.isdigit() and abs(time.time() - int(timestamp)) < MAX_AGE_S
        if not fresh or not hmac.compare_digest(expected, self.headers.get("X-OCS-Signature", "")):
            self.send_response(401)
        else:
            event = json.loads(body)
            if event["event_id"] not in seen:  # delivery is at least once
                handle(event)
                seen.add(event["event_id"])
            self.send_response(204)
        self.end_headers()


if __name__ == "__main__":
    ThreadingHTTPServer(("", 8080), Receiver).serve_forever()
"""


def render() -> str:
    lines = [INTRO, SUBSCRIBING.replace("{receiver}", WEBHOOK_RECEIVER)]
    lines += ["## Topics", "", "| aggregate | topic |", "|---|---|"]
    lines += [f"| {aggregate} | `{topic}` |" for aggregate, topic in TOPICS.items()]
    lines += ["", "## The envelope", "", "Every message value is this JSON object.", "", *table(Envelope())]
    lines += ["## Event types", ""]
    shared = {}
    for event_type, payload in PAYLOADS.items():
        schema = payload()
        topic = TOPICS[event_type.split(".")[0]]
        lines += [f"### `{event_type}` (schema version {SCHEMA_VERSIONS[event_type]}, topic `{topic}`)", ""]
        if payload_summary(event_type):
            lines += [payload_summary(event_type), ""]
        lines += table(schema)
        for nested in nested_schemas(schema):
            shared[type(nested).__name__] = nested
    lines += [
        "## Dead letters",
        "",
        f"Events the relay could not publish, or a consumer group could not apply, are parked on `{DEAD_LETTER_TOPIC}`",
        "(key = aggregate id), each with every later event of its aggregate behind it. A topic's subscriber does not",
        "see an event the relay parked, nor any later event of that aggregate, until it is published again.",
        "`ocs admin dead-letters` lists the parked ones; `ocs admin replay-dead-letters` applies them again, and asks",
        "the relay to publish its own again, in order.",
        "",
        *table(DeadLetter()),
    ]
    lines += [
        "## Replies while they are generated",
        "",
        f"The LLM workers publish each reply's text as it is generated on `{REPLY_DELTAS_TOPIC}` (key = the chat",
        "session's id, so one session's deltas keep their order): the first piece at once, then at most one record",
        "per reply every 50 ms, and a last one with `done`. These are not events: a crash mid-reply loses deltas,",
        "never the reply, which is recorded whole as `ChatSession.ReplyRecorded` (with the provider's token usage).",
        "A reply a worker started again begins again at `offset` 0. `GET /api/chat/{session_id}/stream/` passes them",
        "on as `delta` events; `POST /api/chat/{session_id}/{task_id}/cancel/` records",
        "`ChatSession.ReplyCancelRequested`, and the worker then records what it has generated, with",
        '`{"cancelled": true}` in the message\'s metadata.',
        "",
        *table(ReplyDelta()),
    ]
    lines += ["## Shared objects", ""]
    for name, schema in shared.items():
        lines += [f"### {name}", ""]
        if type(schema).__doc__:
            lines += [type(schema).__doc__.strip(), ""]
        lines += table(schema)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
