"""Webhook subscriptions on the write model: what a subscription accepts (URLs, event types, a team's limit),
disabling, and the secret and signature its deliveries carry."""

import hashlib
import hmac

import pytest

from command_api import commands
from command_api.domain.subscription import MAX_PER_TEAM, event_type_problem, webhook_url_problem
from infra.secrets import webhook_secret, webhook_signature
from schemas.errors import ApiError


def create(bus, team: str, url: str = "https://hooks.example.com/ocs", event_types=("ChatSession.*",)):
    return bus.handle(commands.CreateSubscription(team=team, url=url, event_types=tuple(event_types)))


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/ocs?token=x", "http://127.0.0.1:8080/", "https://[::1]:9000/hook"]
)
def test_http_and_https_urls_with_a_host_are_webhook_urls(url):
    assert webhook_url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "example.com/hook",
        "http://example.com:0/",
        "http://example.com:port/",
        "http://[::1/",
        "https://example.com/" + "x" * 2000,
    ],
)
def test_other_urls_are_refused(url):
    assert webhook_url_problem(url)


@pytest.mark.parametrize("name", ["ChatSession.*", "ChatSession.Created", "Team.Created", "Participant.*"])
def test_event_types_are_exact_types_or_an_aggregates(name):
    assert event_type_problem(name) is None


@pytest.mark.parametrize("name", ["ChatSession", "ChatSession.Nope", "Nothing.*", "*", "ChatSession.Created.*", ""])
def test_other_event_types_are_refused(name):
    assert event_type_problem(name)


def test_a_subscription_answers_what_it_is_and_records_no_secret(bus, team, app):
    outcome = create(bus, team, event_types=("ChatSession.*", "Team.Created", "ChatSession.*"))
    assert outcome.body == {
        "id": str(outcome.aggregate.id),
        "team": team,
        "url": "https://hooks.example.com/ocs",
        "event_types": ["ChatSession.*", "Team.Created"],
        "enabled": True,
    }
    (created,) = [e for e in app.all_envelopes() if e["type"] == "Subscription.Created"]
    assert created["data"] == {"url": "https://hooks.example.com/ocs", "event_types": ["ChatSession.*", "Team.Created"]}


def test_refusals_name_what_is_wrong(bus, team, event_types):
    cases = [
        ({"team": "nobody"}, 404, "team 'nobody' does not exist"),
        ({"url": "ftp://x/"}, 400, "'ftp://x/' is not an http or https URL"),
        ({"event_types": ("Chat.*",)}, 400, "'Chat.*' is no event type"),
        ({"event_types": ("Team.Created",) * 51}, 400, "at most 50 event types"),
    ]
    for overrides, status, text in cases:
        with pytest.raises(ApiError) as raised:
            create(bus, **{"team": team, **overrides})
        assert raised.value.status == status and text in raised.value.body["detail"]
    assert event_types() == ["Team.Created"]


def test_a_team_has_a_limited_number_of_subscriptions_and_disabled_ones_count(bus, team):
    ids = {str(create(bus, team).aggregate.id) for _ in range(MAX_PER_TEAM)}
    assert len(ids) == MAX_PER_TEAM
    bus.handle(commands.DisableSubscription(subscription_id=sorted(ids)[0]))
    with pytest.raises(ApiError) as raised:
        create(bus, team)
    assert raised.value.status == 409


def test_disabling_is_recorded_once(bus, team, event_types):
    subscription_id = str(create(bus, team).aggregate.id)
    for _ in range(2):
        outcome = bus.handle(commands.DisableSubscription(subscription_id=subscription_id))
        assert outcome.body["enabled"] is False
    assert event_types().count("Subscription.Disabled") == 1
    with pytest.raises(ApiError) as raised:
        bus.handle(commands.DisableSubscription(subscription_id="not-one"))
    assert raised.value.status == 404


def test_a_messaging_channels_webhook_url_is_checked_as_a_subscriptions(bus, team, create_chatbot):
    chatbot_id = create_chatbot()
    with pytest.raises(ApiError) as raised:
        bus.handle(commands.CreateMessagingChannel(chatbot_id, "whatsapp", "ftp://example.com/"))
    assert raised.value.status == 400


def test_a_delivery_is_signed_over_its_timestamp_and_body_with_a_secret_per_subscription():
    secret = webhook_secret("server key", "subscription-1")
    assert secret != webhook_secret("server key", "subscription-2") != webhook_secret("other key", "subscription-1")
    expected = hmac.new(secret.encode(), b"1700000000." + b'{"a":1}', hashlib.sha256).hexdigest()
    assert webhook_signature(secret, 1700000000, b'{"a":1}') == f"sha256={expected}"
    assert webhook_signature(secret, 1700000001, b'{"a":1}') != f"sha256={expected}"
