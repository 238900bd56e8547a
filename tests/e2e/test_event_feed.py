"""A team's event feed over HTTP (`GET /api/events/`): its own events in log order, each as published, followed
by cursor, filtered by type or aggregate; credentials' events left out; read by keys that may read sessions and by
tokens with `events:read`; and the AsyncAPI document describes exactly what a subscriber receives."""

import json

import pytest
import requests
from jsonschema import Draft7Validator

from schemas.events import TOPICS
from tests.stack import ChatClient, eventually


def feed(client, **params) -> dict:
    response = client.get("/api/events/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def feed_with(client, last_type: str, count: int = 1, **params) -> dict:
    """The feed once it holds `count` events of `last_type`: it follows the log a moment after each write."""

    def settled():
        page = feed(client, **params)
        return page if types_of(page).count(last_type) >= count else None

    page = eventually(settled)
    assert page, f"fewer than {count} {last_type} in the feed"
    return page


def types_of(page: dict) -> list[str]:
    return [event["type"] for event in page["events"]]


def test_a_teams_feed_is_its_events_in_log_order_as_published(stack, tenant):
    session = tenant.create_session(page_context={"page": "pricing"})
    tenant.client().post(f"/api/sessions/{session['id']}/tags/", json={"tags": ["vip"]})
    page = feed_with(tenant.client(tenant.read_only_key), "ChatSession.Tagged")
    events = page["events"]
    types = types_of(page)
    assert types[0] == "Team.Created" and "ChatSession.Created" in types and "ChatSession.Tagged" in types
    # No credential's events: they carry secrets' hashes.
    assert not any(event["aggregate_type"] in ("ApiKey", "OAuthClient", "OAuthToken") for event in events)
    positions = [event["position"] for event in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert {event["team"] for event in events} == {tenant.slug}
    created = next(event for event in events if event["type"] == "ChatSession.Created")
    assert created["aggregate_id"] == session["id"]
    assert created["data"]["state"] == {"page_context": {"page": "pricing"}}
    assert page["next"] == str(positions[-1])


def test_cursors_walk_the_feed_without_gap_or_repeat_and_wait_at_its_end(stack, tenant):
    for _ in range(3):
        tenant.create_session()
    everything = feed_with(tenant.client(), "ChatSession.Created", count=3, limit=1000)["events"]
    walked, after = [], None
    while True:
        page = feed(tenant.client(), limit=2, **({"after": after} if after else {}))
        if not page["events"]:
            assert page["next"] == after  # nothing new: ask again with the same cursor
            break
        walked += page["events"]
        after = page["next"]
    assert walked == everything
    tenant.create_session()
    newer = feed_with(tenant.client(), "ChatSession.Created", after=after)["events"]
    assert all(event["position"] > int(after) for event in newer)


def test_filters_by_type_and_aggregate(stack, tenant):
    session = tenant.create_session()["id"]
    tenant.client().patch(f"/api/sessions/{session}/update_state/", json={"state": {"x": 1}})
    chat_session_events = feed_with(tenant.client(), "ChatSession.StateChanged", types="ChatSession.*")["events"]
    assert chat_session_events and {event["aggregate_type"] for event in chat_session_events} == {"ChatSession"}
    exact = feed(tenant.client(), types="ChatSession.StateChanged,Team.Created")["events"]
    assert {event["type"] for event in exact} == {"ChatSession.StateChanged", "Team.Created"}
    mine = feed(tenant.client(), aggregate_id=session)["events"]
    assert [event["type"] for event in mine] == ["ChatSession.Created", "ChatSession.StateChanged"]
    # A regular expression is no type filter.
    assert feed(tenant.client(), types=".*")["events"] == []


def test_a_chat_message_and_its_reply_reach_the_feed(stack, bot_tenant):
    chat = ChatClient(stack.base_url)
    chat.start(bot_tenant.chatbot_id)
    task = chat.say("hello feed")
    chat.reply_to(task)
    page = feed_with(bot_tenant.client(), "ChatSession.ReplyRecorded", aggregate_id=chat.session_id)
    types = types_of(page)
    assert types == ["ChatSession.Created", "ChatSession.UserMessageSubmitted", "ChatSession.ReplyRecorded"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"after": "x"}, "after"),
        ({"after": "-1"}, "after"),
        ({"after": "³"}, "after"),  # a digit to str.isdigit(), not to int()
        ({"limit": "²"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"types": ",".join(["A.b"] * 51)}, "types"),
    ],
)
def test_bad_cursors_limits_and_type_lists_are_field_errors(stack, tenant, params, field):
    response = tenant.client().get("/api/events/", params=params)
    assert response.status_code == 400 and field in response.json()


def test_who_may_read_the_feed(stack, tenant):
    viewer = stack.admin(f"create-api-key --team {tenant.slug} --role 'Event Admin'")["key"]
    assert tenant.client(viewer).get("/api/events/").status_code == 403  # its role may not read sessions
    with_scope = tenant.bearer(tenant.machine_token("events:read"))
    assert with_scope.get("/api/events/").status_code == 200
    without = tenant.bearer(tenant.machine_token("sessions:read"))
    assert without.get("/api/events/").status_code == 403
    assert ChatClient(stack.base_url).get("/api/events/").status_code == 401


def stream_events(base_url: str, key: str, count: int, last_event_id: str | None = None, **params) -> list[dict]:
    """The first `count` events the team's stream sends (after `last_event_id`), then the connection closed."""
    headers = {"X-api-key": key, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    events, current = [], {}
    with requests.get(f"{base_url}/api/events/stream/", headers=headers, params=params, stream=True, timeout=20) as r:
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith(("id: ", "event: ", "data: ")):
                field, _, value = line.partition(": ")
                current[field] = value
            elif not line and "data" in current:
                events.append({**current, "data": json.loads(current["data"])})
                current = {}
                if len(events) == count:
                    break
    return events


def test_the_stream_resumes_after_a_disconnect_with_no_gap_and_no_repeat(stack, tenant):
    first_part = feed_with(tenant.client(), "Chatbot.Created")["events"]
    received = stream_events(stack.base_url, tenant.key, len(first_part))
    assert [event["data"] for event in received] == first_part
    assert all(
        event["id"] == str(event["data"]["position"]) and event["event"] == event["data"]["type"] for event in received
    )
    # Events keep coming while the client is away; it reconnects with the id of the last one it received.
    for _ in range(3):
        tenant.create_session()
    everything = feed_with(tenant.client(), "ChatSession.Created", count=3, limit=1000)["events"]
    rest = stream_events(stack.base_url, tenant.key, len(everything) - len(received), last_event_id=received[-1]["id"])
    assert [event["data"] for event in received + rest] == everything


def test_the_stream_filters_as_the_feed_does(stack, tenant):
    session = tenant.create_session()["id"]
    tenant.client().post(f"/api/sessions/{session}/tags/", json={"tags": ["x"]})
    (tagged,) = stream_events(stack.base_url, tenant.key, 1, types="ChatSession.Tagged")
    assert tagged["data"]["aggregate_id"] == session
    mine = stream_events(stack.base_url, tenant.key, 2, aggregate_id=session)
    assert [event["event"] for event in mine] == ["ChatSession.Created", "ChatSession.Tagged"]
    assert (
        requests.get(
            f"{stack.base_url}/api/events/stream/", params={"after": "x"}, headers={"X-api-key": tenant.key}
        ).status_code
        == 400
    )


def violations(document: dict, channel: str, envelope: dict) -> list[str]:
    """Why the envelope is not a message `channel` carries, as the AsyncAPI document says (none: it is)."""
    if envelope["type"] not in document["channels"][channel]["messages"]:
        return [f"{channel} carries no {envelope['type']}"]
    # AsyncAPI's schemas are JSON Schema draft 7; their references point into the document's components.
    schema = {"$ref": f"#/components/schemas/{envelope['type']}", "components": document["components"]}
    return [f"{envelope['type']}: {error.message}" for error in Draft7Validator(schema).iter_errors(envelope)]


def test_the_asyncapi_document_describes_what_the_feed_answers_and_the_topics_carry(stack, bot_tenant):
    chat = ChatClient(stack.base_url)
    chat.start(bot_tenant.chatbot_id)
    chat.reply_to(chat.say("describe me"))
    session = bot_tenant.create_session(page_context={"page": "pricing"})
    bot_tenant.client().post(f"/api/sessions/{session['id']}/tags/", json={"tags": ["vip"]})
    # Served like the OpenAPI document: without a credential, under both mounts.
    document = requests.get(f"{stack.base_url}/api/events/asyncapi.json", timeout=10).json()
    assert requests.get(f"{stack.base_url}/api/v1/events/asyncapi.json", timeout=10).json() == document

    fed = feed_with(bot_tenant.client(), "ChatSession.Tagged", limit=1000)["events"]
    assert len({event["type"] for event in fed}) >= 5
    assert [problem for event in fed for problem in violations(document, "eventFeed", event)] == []
    # Every event the stack has recorded so far, credentials' too, as the relay publishes it to its topic.
    published = list(stack.system.app.all_envelopes())
    assert {envelope["aggregate_type"] for envelope in published} >= {"ApiKey", "Team", "ChatSession", "Chatbot"}
    problems = [
        problem
        for envelope in published
        for problem in violations(document, TOPICS[envelope["aggregate_type"]], envelope)
    ]
    assert problems == []
