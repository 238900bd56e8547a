"""POST /api/trigger_bot and bot messages going out on messaging channels (SPEC §3.14, §6 items 24-26)."""

import json

import pytest

from tests.stack import eventually
from tests.webhook_receiver import WebhookReceiver, signature_is_valid


@pytest.fixture
def webhook():
    hook = WebhookReceiver()
    yield hook
    hook.stop()


@pytest.fixture
def whatsapp(stack, bot_tenant, webhook):
    """The chatbot's WhatsApp channel, delivering to the webhook; its signing secret."""
    created = stack.admin(
        f"create-channel --chatbot {bot_tenant.chatbot_id} --platform whatsapp --webhook-url {webhook.url}"
    )
    return created


V1, V2 = "/api/trigger_bot", "/api/v2/trigger_bot/"


FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def trigger(tenant, path: str = V1, client=None, **body):
    """On v1's path, or v2's (the same request and refusals; v2 answers the channel as `{platform, data}`), with the
    tenant's writable key unless another `client` is given."""
    return (client or tenant.client()).post(
        path,
        json={"identifier": "+15550001", "platform": "whatsapp", "experiment": tenant.chatbot_id, **body},
    )


def session_events(stack, session_id: str) -> list[dict]:
    return [e for e in stack.system.app.all_envelopes() if e["aggregate_id"] == session_id]


def test_a_verbatim_message_is_recorded_and_delivered_signed(stack, bot_tenant, whatsapp, webhook, fake_llm):
    webhook.failures = 1  # the first attempt fails; the retry gets through
    response = trigger(bot_tenant, message_text="Your order shipped", session_data={"order": 7})
    assert response.status_code == 200
    body = response.json()
    assert body["channel"] == "whatsapp" and body["team"]["slug"] == bot_tenant.slug
    assert body["url"].endswith(f"/api/sessions/{body['session_id']}/")
    assert eventually(lambda: webhook.received, timeout_s=20)
    headers, raw = webhook.received[0]
    # The channel's webhook is its subscription of its bot messages: the envelope, signed over timestamp and body.
    assert signature_is_valid(whatsapp["webhook_secret"], headers, raw)
    assert headers["X-OCS-Subscription-Id"] == whatsapp["channel_id"]
    envelope = json.loads(raw)
    assert envelope["type"] == "ChatSession.BotMessageSent" and headers["X-OCS-Event-Id"] == envelope["event_id"]
    assert envelope["aggregate_id"] == body["session_id"] and envelope["team"] == bot_tenant.slug
    delivered = envelope["data"]
    assert delivered["recipient"] == "+15550001" and delivered["platform"] == "whatsapp"
    assert delivered["message"]["content"] == "Your order shipped"
    assert delivered["message"]["metadata"] == {"direct_to_user": True}
    outcome = eventually(
        lambda: [e for e in session_events(stack, body["session_id"]) if e["type"] == "ChatSession.DeliveryRecorded"]
    )
    assert outcome[0]["data"]["delivered"] is True and outcome[0]["data"]["attempts"] == 2
    session = bot_tenant.client().get(f"/api/sessions/{body['session_id']}/").json()
    assert session["state"] == {"order": 7} and session["platform"] == "whatsapp"
    assert [m["content"] for m in session["messages"]] == ["Your order shipped"]
    assert not fake_llm.requests_containing("Your order shipped")


def test_a_channels_webhook_is_a_subscription_that_parks_what_keeps_failing_until_replayed(
    stack, bot_tenant, whatsapp, webhook
):
    channel = whatsapp["channel_id"]
    (listed,) = stack.admin(f"list-subscriptions --team {bot_tenant.slug}")["subscriptions"]
    assert listed["id"] == listed["channel_id"] == channel and listed["event_types"] == ["ChatSession.BotMessageSent"]
    webhook.failing = True
    session_id = trigger(bot_tenant, message_text="Are you there?").json()["session_id"]

    def status() -> dict:
        return stack.admin(f"subscription-status --subscription {channel}")["subscriptions"][0]

    assert eventually(lambda: status()["parked"], timeout_s=20)
    assert status()["parked"][0]["attempts"] == 3 and not webhook.received
    webhook.failing = False
    stack.admin(f"replay-subscription --subscription {channel}")
    assert eventually(lambda: webhook.received, timeout_s=20)
    assert json.loads(webhook.received[0][1])["data"]["message"]["content"] == "Are you there?"
    outcome = eventually(
        lambda: [e for e in session_events(stack, session_id) if e["type"] == "ChatSession.DeliveryRecorded"]
    )
    assert outcome[0]["data"]["delivered"] is True and outcome[0]["data"]["attempts"] == 1
    assert eventually(lambda: status()["parked"] == [])


def test_a_prompt_goes_through_the_llm(stack, bot_tenant, whatsapp, webhook, fake_llm):
    body = trigger(bot_tenant, prompt_text="Remind them about the appointment").json()
    assert eventually(lambda: webhook.received, timeout_s=20)
    envelope = json.loads(webhook.received[0][1])
    delivered = envelope["data"]
    assert delivered["message"]["content"] == "echo: Remind them about the appointment"
    (request,) = fake_llm.requests_containing("Remind them about the appointment")
    assert request["messages"][-1] == {"role": "system", "content": "Remind them about the appointment"}
    assert delivered["message"]["tags"] == ["v1-unreleased"]
    assert body["session_id"] == envelope["aggregate_id"]


@pytest.mark.parametrize("path", [V1, V2])
def test_triggers_merge_state_and_data_and_start_new_sessions_on_request(stack, bot_tenant, whatsapp, path):
    first = trigger(bot_tenant, path, message_text="one", session_data={"a": 1}, participant_data={"x": 1}).json()
    second = trigger(bot_tenant, path, message_text="two", session_data={"b": 2}, participant_data={"y": 2}).json()
    assert first["session_id"] == second["session_id"]
    client = bot_tenant.client()
    assert client.get(f"/api/sessions/{first['session_id']}/").json()["state"] == {"a": 1, "b": 2}
    (participant,) = client.get("/api/participants?identifier=%2B15550001").json()["results"]
    assert participant["data"][0]["data"] == {"x": 1, "y": 2}
    third = trigger(bot_tenant, path, message_text="three", start_new_session=True).json()
    assert third["session_id"] != first["session_id"]
    assert client.get(f"/api/sessions/{first['session_id']}/").json()["status"] == "pending-review"


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"prompt_text": "p", "message_text": "m"},
            400,
            {"non_field_errors": ["Provide either 'prompt_text' or 'message_text', not both."]},
        ),
        ({}, 400, {"non_field_errors": ["Either 'prompt_text' or 'message_text' must be provided."]}),
        ({"message_text": "m", "platform": "fax"}, 400, {"platform": ['"fax" is not a valid choice.']}),
        ({"message_text": "m", "experiment": "x"}, 400, {"experiment": ["Must be a valid UUID."]}),
        ({"prompt_text": ""}, 400, {"prompt_text": ["This field may not be blank."]}),
        (
            {"message_text": "m", "platform": "api"},
            400,
            {"detail": "Chatbot cannot send messages on the api channel. Create the channel first."},
        ),
        (
            {"message_text": "m", "platform": "telegram"},
            400,
            {"detail": "Chatbot cannot send messages on the telegram channel. Create the channel first."},
        ),
        (
            {"message_text": "m", "session_data": {"page_context": {}}},
            400,
            {"session_data": ["'page_context' is a reserved key: set it with the 'page_context' parameter."]},
        ),
    ],
)
@pytest.mark.parametrize("path", [V1, V2])
def test_trigger_refusals(bot_tenant, whatsapp, body, status, expected, path):
    response = trigger(bot_tenant, path, **body)
    assert (response.status_code, response.json()) == (status, expected)


@pytest.mark.parametrize("path", [V1, V2])
def test_unknown_chatbots_and_read_only_keys(stack, bot_tenant, whatsapp, path):
    other = stack.new_tenant()
    assert trigger(bot_tenant, path, message_text="m", experiment=other.chatbot_id).json() == {
        "detail": "No Experiment matches the given query."
    }
    response = bot_tenant.client(bot_tenant.read_only_key).post(
        path,
        json={"identifier": "x", "platform": "whatsapp", "experiment": bot_tenant.chatbot_id, "message_text": "m"},
    )
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


def test_v2_answers_the_channel_as_platform_and_data_and_the_message_is_delivered(stack, bot_tenant, whatsapp, webhook):
    response = trigger(bot_tenant, V2, bot_tenant.client(), message_text="Your order shipped", session_data={"o": 7})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "session_id": body["session_id"],
        "url": f"{stack.base_url}/api/sessions/{body['session_id']}/",
        "team": {"name": f"Team {bot_tenant.slug}", "slug": bot_tenant.slug},
        "channel": {"platform": "whatsapp", "data": {}},
    }
    assert eventually(lambda: webhook.received, timeout_s=20)
    assert "Your order shipped" in webhook.received[0][1].decode()
    session = bot_tenant.client().get(body["url"]).json()
    assert session["state"] == {"o": 7} and [m["content"] for m in session["messages"]] == ["Your order shipped"]


def test_v2_needs_chatbots_interact_and_the_chatbot_on_a_machine_tokens_list(stack, bot_tenant, whatsapp):
    allowed = bot_tenant.bearer(bot_tenant.machine_token("chatbots:interact", f"--chatbot {bot_tenant.chatbot_id}"))
    assert trigger(bot_tenant, V2, allowed, message_text="hi").status_code == 200
    reader = bot_tenant.bearer(bot_tenant.machine_token("chatbots:read", f"--chatbot {bot_tenant.chatbot_id}"))
    assert trigger(bot_tenant, V2, reader, message_text="hi").json() == FORBIDDEN
    other_chatbot = bot_tenant.new_chatbot("Other")
    unlisted = bot_tenant.bearer(bot_tenant.machine_token("chatbots:interact", f"--chatbot {other_chatbot}"))
    response = trigger(bot_tenant, V2, unlisted, message_text="hi")
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "This application is not authorized to interact with this chatbot."},
    )
