"""Our AsyncAPI 3.0 document: every place a subscriber receives events (the Kafka topics, the team's feed and stream
over HTTP, webhook deliveries) and exactly which messages each carries, generated from the event contract
(`schemas/events.py`, `schemas/event_payloads.py`) that docs/events.md is generated from. `infra/docs.py` serves it.

Marshmallow schemas become JSON Schema through apispec's marshmallow plugin, as in the OpenAPI document, at OpenAPI
3.1, whose schemas are JSON Schema (a null is `"type": [..., "null"]`), which AsyncAPI's default schema format is."""

import copy

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from schemas.events import (
    DEAD_LETTER_TOPIC,
    NOT_IN_FEED,
    PAYLOADS,
    SCHEMA_VERSIONS,
    TEAM_EVENT_TYPES,
    TOPICS,
    DeadLetter,
    Envelope,
    payload_summary,
)
from schemas.openapi.document import API_VERSION
from schemas.reply_deltas import REPLY_DELTAS_TOPIC, ReplyDelta

ASYNCAPI_VERSION = "3.0.0"
TITLE = "Open Chat Studio events"
KAFKA_BINDING_VERSION = "0.5.0"
HTTP_BINDING_VERSION = "0.3.0"

FEED_PATH = "/api/events/"
STREAM_PATH = "/api/events/stream/"

DESCRIPTION = """\
Every change to Open Chat Studio is an event, recorded in the event store and then published. This document lists
where a subscriber receives them and exactly which events each place carries; docs/events.md says the same in prose,
from the same schemas.

- **Kafka topics**, for the operator's own services: every team's events, credentials' included, one topic per
  aggregate type, keyed by aggregate id (one aggregate's events stay in order on one partition).
- **The team's feed** (`GET /api/events/`) and **stream** (`GET /api/events/stream/`, server-sent events), with
  nothing but the team's API key (a role that may read sessions) or an OAuth token with `events:read`.
- **Webhook deliveries**: a `POST` of each event to the URL of each of the team's webhook subscriptions that names
  its type (exactly, or all of its aggregate's as `ChatSession.*`).
- **Replies while they are generated** (`ocs.reply-deltas`): transient deltas of each reply's text, for the
  operator's services; they are not events, and the reply is recorded whole as `ChatSession.ReplyRecorded`.

The feed, the stream and the webhooks carry the team's own events, except those of {not_in_feed}: credentials' carry
secrets' hashes, webhook subscriptions' URLs often hold a receiver's token. Every message is the same envelope whatever
carries it; `position` is its place in the event store's log, and the feed's cursor. Delivery is at least once: use
`event_id` to ignore an event already handled. A payload may gain fields within its `schema_version`: ignore fields
you do not know.
""".format(not_in_feed=", ".join(f"`{aggregate}`" for aggregate in NOT_IN_FEED))

# The local stack and production differ only in these addresses.
SERVERS = {
    "kafka": {
        "host": "{bootstrap}",
        "protocol": "kafka",
        "description": "The deployment's Kafka brokers, for the operator's own services (any consumer group).",
        "variables": {"bootstrap": {"description": "a bootstrap server, `host:port`"}},
    },
    "api": {
        "host": "{host}",
        "protocol": "https",
        "description": "The API's base URL (plain `http` on the local stack).",
        "variables": {"host": {"description": "the API's host (and port)"}},
        "security": [{"$ref": "#/components/securitySchemes/apiKey"}, {"$ref": "#/components/securitySchemes/bearer"}],
    },
    "subscriber": {
        "host": "{host}",
        "protocol": "https",
        "description": "A webhook subscriber: each subscription's own URL, as the team gave it.",
        "variables": {"host": {"description": "the subscription URL's host"}},
    },
}

SECURITY_SCHEMES = {
    "apiKey": {
        "type": "httpApiKey",
        "in": "header",
        "name": "X-api-key",
        "description": "a team's API key whose role may read sessions",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "a team's API key, or an OAuth2 access token from `/o/token/` with the `events:read` scope",
    },
}

WEBHOOK_HEADERS = {
    "type": "object",
    "required": ["Content-Type", "X-OCS-Event-Id", "X-OCS-Subscription-Id", "X-OCS-Timestamp", "X-OCS-Signature"],
    "properties": {
        "Content-Type": {"type": "string", "const": "application/json"},
        "X-OCS-Event-Id": {"type": "string", "description": "the event's `event_id`: skip a delivery already handled"},
        "X-OCS-Subscription-Id": {"type": "string", "description": "the webhook subscription this delivery is for"},
        "X-OCS-Timestamp": {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "when it was sent, in Unix seconds; refuse old ones to stop replays",
        },
        "X-OCS-Signature": {
            "type": "string",
            "pattern": "^sha256=[0-9a-f]{64}$",
            "description": "`sha256=` and the hex HMAC-SHA256, keyed by the subscription's secret, of "
            '`f"{timestamp}.".encode() + body` (the exact bytes received); compare in constant time',
        },
    },
}

# The feed's and the stream's query parameters (the OpenAPI document describes the same requests).
FEED_QUERY = {
    "type": "object",
    "properties": {
        "after": {"type": "string", "description": "a cursor (`next`, or a `position`): start after it"},
        "types": {"type": "string", "description": "comma-separated event types; `ChatSession.*`: an aggregate's"},
        "aggregate_id": {"type": "string", "description": "only this aggregate's events"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "the feed only; default 100"},
    },
}


def schema_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def message_ref(channel: str, name: str) -> dict:
    return {"$ref": f"#/channels/{channel}/messages/{name}"}


def json_schemas() -> dict:
    """The envelope, the dead letter and every payload schema (and the objects they nest), as JSON Schema."""
    spec = APISpec(title=TITLE, version=API_VERSION, openapi_version="3.1.0", plugins=[MarshmallowPlugin()])
    named = {"Envelope": Envelope, "DeadLetter": DeadLetter, "ReplyDelta": ReplyDelta, **payload_names()}
    for name, schema in named.items():
        spec.components.schema(name, schema=schema)
    return spec.to_dict()["components"]["schemas"]


def payload_names() -> dict:
    """Each payload schema under its class's name (shared by the types that share it)."""
    return {payload.__name__: payload for payload in PAYLOADS.values()}


def event_schema(envelope: dict, event_type: str) -> dict:
    """The envelope of one event type: its type, version and aggregate fixed, its data that type's payload."""
    aggregate = event_type.split(".")[0]
    schema = copy.deepcopy(envelope)
    properties = schema["properties"]
    properties["type"]["const"] = event_type
    properties["schema_version"]["const"] = SCHEMA_VERSIONS[event_type]
    properties["aggregate_type"]["const"] = aggregate
    properties["data"] = {**schema_ref(PAYLOADS[event_type].__name__), "description": f"the `{event_type}` payload"}
    return schema


def event_message(event_type: str) -> dict:
    """One event type's message, as every channel carries it (the webhooks add their headers)."""
    message = {"name": event_type, "title": event_type, "contentType": "application/json"}
    summary = payload_summary(event_type)
    return {**message, **({"summary": " ".join(summary.split())} if summary else {}), "payload": schema_ref(event_type)}


def keyed_by_aggregate(message: dict) -> dict:
    """On a topic, the message key is the aggregate id."""
    key = {"type": "string", "format": "uuid", "description": "the aggregate id"}
    return {**message, "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING_VERSION}}}


def component_messages(names) -> dict:
    return {name: {"$ref": f"#/components/messages/{name}"} for name in names}


def kafka_channel(topic: str, description: str, messages: list[str]) -> dict:
    return {
        "address": topic,
        "title": topic,
        "description": f"{description} Key: the aggregate id.",
        "servers": [{"$ref": "#/servers/kafka"}],
        "messages": component_messages(messages),
        "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def topic_channels() -> dict:
    """One channel per topic, carrying every team's events of the aggregates published to it; and the dead letters."""
    aggregates_of: dict[str, list[str]] = {}
    for aggregate, topic in TOPICS.items():
        aggregates_of.setdefault(topic, []).append(aggregate)
    channels = {
        topic: kafka_channel(
            topic,
            f"Every team's {', '.join(f'`{name}`' for name in aggregates)} events.",
            [event_type for event_type in PAYLOADS if event_type.split(".")[0] in aggregates],
        )
        for topic, aggregates in aggregates_of.items()
    }
    channels[REPLY_DELTAS_TOPIC] = kafka_channel(
        REPLY_DELTAS_TOPIC,
        "Every team's replies while the LLM workers generate them, in deltas (at most one per reply every 50 ms), "
        "ending in one with `done`; transient: a crash mid-reply loses deltas, never the reply, which is recorded "
        "whole as `ChatSession.ReplyRecorded` (and a restarted reply starts again at `offset` 0). The aggregate is "
        "the chat session.",
        ["ReplyDelta"],
    )
    channels[DEAD_LETTER_TOPIC] = kafka_channel(
        DEAD_LETTER_TOPIC,
        "Events the relay could not publish, or a consumer group could not apply, parked with the reason "
        "(docs/events.md says how they are replayed).",
        ["DeadLetter"],
    )
    return channels


def team_channels() -> dict:
    """Where a team follows its own events with nothing but its credential: by pull, by stream and by push."""
    webhook_messages = {
        event_type: {**event_message(event_type), "headers": schema_ref("WebhookHeaders")}
        for event_type in TEAM_EVENT_TYPES
    }
    return {
        "eventFeed": {
            "address": FEED_PATH,
            "title": "The team's event feed",
            "description": '`GET /api/events/` answers `{"events": [<message>, ...], "next": "<cursor>"}`: the '
            "team's events after the cursor `after`, in log order (`position` increasing); ask again with "
            "`after=<next>` to go on. An `after` older than the oldest event kept starts at the oldest kept. The "
            "OpenAPI document (`/api/schema/`) describes the request and the page.",
            "servers": [{"$ref": "#/servers/api"}],
            "messages": component_messages(TEAM_EVENT_TYPES),
        },
        "eventStream": {
            "address": STREAM_PATH,
            "title": "The team's event stream",
            "description": "`GET /api/events/stream/` answers `text/event-stream` (server-sent events): each event as "
            "`id: <position>`, `event: <type>`, `data: <message>`, as it is written to the feed. Reconnecting with "
            "`Last-Event-ID` (or `after`) resumes right after the last event received, with no gap and no repeat. "
            "Keepalive comments every 15 s; a stream closes after five minutes (reconnect).",
            "servers": [{"$ref": "#/servers/api"}],
            "messages": component_messages(TEAM_EVENT_TYPES),
        },
        "webhookDeliveries": {
            "address": None,
            "title": "Webhook deliveries",
            "description": "Each of the team's events is `POST`ed to the URL of each of its webhook subscriptions "
            "that names its type (exactly, or as `<Aggregate>.*`), the body exactly as the feed answers the event "
            "(`Content-Type: application/json`), signed in the headers. The address is the subscription's URL.",
            "servers": [{"$ref": "#/servers/subscriber"}],
            "messages": webhook_messages,
        },
    }


# Who publishes to a topic, where it is not the relay.
PUBLISHERS = {REPLY_DELTAS_TOPIC: "Each LLM worker"}


def operation(channel: str, messages, summary: str, http: dict | None = None) -> dict:
    """What this system sends on `channel`: `messages` (their names in the channel)."""
    described = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [message_ref(channel, name) for name in messages],
    }
    if http:
        described["bindings"] = {"http": {**http, "bindingVersion": HTTP_BINDING_VERSION}}
    return described


def operations(topics: dict) -> dict:
    """What this system sends, on each channel: the relay on the topics; the API to a team and its subscribers."""
    return {
        **{
            f"publish.{topic}": operation(
                topic, channel["messages"], f"{PUBLISHERS.get(topic, 'The relay')} publishes to `{topic}`"
            )
            for topic, channel in topics.items()
        },
        "answerEventFeed": operation(
            "eventFeed", TEAM_EVENT_TYPES, "Answer a page of the team's events", {"method": "GET", "query": FEED_QUERY}
        ),
        "streamEvents": operation(
            "eventStream",
            TEAM_EVENT_TYPES,
            "Stream the team's events as they happen",
            {"method": "GET", "query": FEED_QUERY},
        ),
        "deliverWebhooks": operation(
            "webhookDeliveries",
            TEAM_EVENT_TYPES,
            "POST each of the team's events to each of its webhook subscriptions that names its type",
            {"method": "POST"},
        ),
    }


def asyncapi_document() -> dict:
    schemas = json_schemas()
    events = {event_type: event_schema(schemas["Envelope"], event_type) for event_type in PAYLOADS}
    topics = topic_channels()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": TITLE, "version": API_VERSION, "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": {**topics, **team_channels()},
        "operations": operations(topics),
        "components": {
            "schemas": {**schemas, **events, "WebhookHeaders": WEBHOOK_HEADERS},
            "messages": {
                **{event_type: keyed_by_aggregate(event_message(event_type)) for event_type in PAYLOADS},
                "DeadLetter": keyed_by_aggregate(
                    {"name": "DeadLetter", "title": "A dead letter", "payload": schema_ref("DeadLetter")}
                ),
                "ReplyDelta": keyed_by_aggregate(
                    {"name": "ReplyDelta", "title": "A piece of a reply", "payload": schema_ref("ReplyDelta")}
                ),
            },
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(asyncapi_document(), indent=2))
