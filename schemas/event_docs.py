"""Renders docs/events.md, the event contract for subscribers, from `schemas.events`.

Run `python -m schemas.event_docs > docs/events.md`; a test fails when the file is out of date.
"""

from marshmallow import Schema, fields

from schemas.events import DEAD_LETTER_TOPIC, PAYLOADS, SCHEMA_VERSIONS, TOPICS, DeadLetter, Envelope, payload_summary

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
  consumer group of your own (each event's `team` says whose it is).
- **The team's feed over HTTP**, for a team's own integrations, with nothing but its API key (a role that may
  read sessions) or an OAuth token with `events:read`: `GET /api/events/` answers
  `{"events": [<envelope>, ...], "next": "<cursor>"}`, the team's events in log order (`position` increasing),
  each envelope exactly as published; ask again with `after=<next>` to go on (the same cursor comes back while
  nothing new has happened). `types=ChatSession.*,Team.Created` (exact types, or all of an aggregate's with
  `.*`), `aggregate_id=` and `limit=` (default 100, at most 1000) narrow it. Credentials' events (`ApiKey`,
  `OAuthClient`, `AuthorizationCode`, `OAuthToken`, `CookieSession`) are not in any team's feed: they carry
  secrets' hashes. The feed is written from the event store's log in log order (`projectors/feed.py`), a moment
  after each write: whoever has seen an event has seen every earlier one of the team. Every event is kept, unless
  the operator sets a retention window (`OCS_EVENT_FEED_RETENTION_DAYS`): then events older than it leave the feed,
  and a cursor older than the oldest event kept goes on from the oldest kept.
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
"""


def render() -> str:
    lines = [INTRO, SUBSCRIBING, "## Topics", "", "| aggregate | topic |", "|---|---|"]
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
    lines += ["## Shared objects", ""]
    for name, schema in shared.items():
        lines += [f"### {name}", ""]
        if type(schema).__doc__:
            lines += [type(schema).__doc__.strip(), ""]
        lines += table(schema)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
