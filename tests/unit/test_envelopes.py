"""The write model's log as subscribers see it: OcsApplication.envelopes() and to_envelope()."""

import json
import re
from uuid import UUID

import pytest

from command_api import commands
from schemas.events import TOPICS, Envelope

OCCURRED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


@pytest.fixture
def log(bus, create_session, chatbot_id) -> list[dict]:
    """Every kind of event at least once (and some aggregates at version > 1), read back as envelopes."""
    bus.handle(commands.PublishVersion(chatbot_id=chatbot_id, description="v1", make_default=False))
    key = bus.handle(commands.IssueApiKey(team="acme", name="ci", read_only=False)).body["key"]
    bus.handle(commands.RevokeApiKey(prefix=key.split(".")[0]))
    bus.handle(commands.CreateWidgetChannel(chatbot_id=chatbot_id, allowed_domains=("*",), auth_level="none"))
    create_session(participant="jane", messages=({"role": "user", "content": "hi"},), page_context={"p": 1})
    return bus.app.envelopes(0, 1000)


def test_the_log_covers_every_aggregate_type(log):
    # Guards the other tests here: they mean something only if every kind of event they check is present.
    assert [e["type"] for e in log] == [
        "Team.Created",
        "Chatbot.Created",
        "Chatbot.VersionPublished",
        "ApiKey.Created",
        "ApiKey.Revoked",
        "WidgetChannel.Created",
        "Participant.Created",
        "Participant.SessionJoined",
        "ChatSession.Created",
        "ChatSession.MessagesAppended",
    ]


def test_every_envelope_has_exactly_the_documented_keys_and_validates(log):
    for envelope in log:
        assert set(envelope) == set(Envelope().fields)
        assert Envelope().validate(envelope) == {}


def test_every_envelope_names_its_team_type_and_aggregate(log):
    for envelope in log:
        aggregate_type = envelope["type"].split(".")[0]
        assert envelope["team"] == "acme"
        assert envelope["aggregate_type"] == aggregate_type and aggregate_type in TOPICS
        assert envelope["schema_version"] == 1
        assert OCCURRED_AT.match(envelope["occurred_at"])
        UUID(envelope["aggregate_id"])


def test_positions_increase_without_gaps(log):
    assert [e["position"] for e in log] == list(range(1, len(log) + 1))


def test_aggregate_versions_count_from_one_per_aggregate(log):
    seen: dict[str, int] = {}
    for envelope in log:
        assert envelope["aggregate_version"] == seen.get(envelope["aggregate_id"], 0) + 1
        seen[envelope["aggregate_id"]] = envelope["aggregate_version"]


def test_event_ids_are_unique(log):
    assert len({e["event_id"] for e in log}) == len(log)


def test_event_ids_are_the_same_on_every_read_of_the_log(log, other_process):
    # Subscribers deduplicate redeliveries and replays by event_id, so it must not depend on who reads.
    assert [e["event_id"] for e in other_process.envelopes(0, 1000)] == [e["event_id"] for e in log]


def test_the_llm_api_key_is_never_published(log, llm_api_key):
    assert llm_api_key not in json.dumps(log)
    chatbot_events = [e for e in log if e["aggregate_type"] == "Chatbot"]
    assert chatbot_events and all("api_key" not in e["data"]["llm"] for e in chatbot_events)


def test_envelopes_page_through_the_log_after_a_position(app, log):
    page = app.envelopes(after=2, limit=3)

    assert [e["position"] for e in page] == [3, 4, 5]
    assert page == log[2:5]


def test_all_envelopes_reads_every_page(app, log):
    assert list(app.all_envelopes(page_size=2)) == log


def test_an_empty_log_has_no_envelopes(app):
    assert app.envelopes(0, 10) == []
    assert list(app.all_envelopes()) == []


def test_to_envelope_works_on_events_not_yet_stored(chatbot, envelopes_of):
    (created,) = envelopes_of(chatbot)

    assert created["type"] == "Chatbot.Created" and created["position"] == 1
    assert created["data"] == {
        "name": "Bot",
        "description": "answers",
        "llm": {"prompt": "be brief", "provider": "openai", "model": "m", "base_url": None},
    }
