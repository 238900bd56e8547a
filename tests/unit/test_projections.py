"""Projections as pure functions: which MongoDB writes each event envelope turns into, and why they are idempotent."""

import json
from uuid import uuid4

import pytest
from pymongo import InsertOne, UpdateOne

from command_api.domain.api_key import ApiKey, api_key_id
from command_api.domain.participant import Participant, participant_id
from command_api.domain.team import Team, team_id
from command_api.domain.widget_channel import WidgetChannel
from projectors.projections import writes_for
from projectors.projections.event_feed import feed_entry
from projectors.projections.sessions import is_version_tag
from schemas.ids import widget_channel_id
from schemas.read_models import (
    API_KEYS,
    CHATBOT_VERSIONS,
    CHATBOTS,
    COLLECTION_OF_AGGREGATE,
    EVENTS,
    MESSAGES,
    SESSIONS,
    TASKS,
    TEAMS,
)


def unpack(write) -> tuple[str, dict, dict, bool | str]:
    """(collection, filter, update, upsert), or for an insert (collection, its id, the document, "insert").
    UpdateOne and InsertOne offer no public accessors, only equality."""
    collection, op = write
    if isinstance(op, InsertOne):
        return collection, {"_id": op._doc["_id"]}, op._doc, "insert"
    return collection, op._filter, op._doc, bool(op._upsert)


@pytest.fixture
def created_envelopes(chat_session, chatbot, envelopes_of):
    """The creating event of each aggregate type that has a read model."""
    return envelopes_of(
        Team(id=team_id("acme"), team="acme", name="Acme"),
        ApiKey(id=api_key_id("p"), team="acme", prefix="p", secret_hash="h", name="n", user="u", read_only=False),
        chatbot,
        WidgetChannel(
            id=widget_channel_id("k"), team="acme", chatbot_id=str(chatbot.id), allowed_domains=["*"], auth_level="none"
        ),
        Participant(
            id=participant_id("acme", "api", "jane"),
            team="acme",
            identifier="jane",
            platform="api",
            name="",
            remote_id="",
            user=None,
        ),
        chat_session,
    )


def test_a_team_created_event_inserts_the_team_only_if_absent(envelopes_of):
    (envelope,) = envelopes_of(Team(id=team_id("acme"), team="acme", name="Acme"))

    assert writes_for(envelope) == [
        (
            TEAMS,
            UpdateOne(
                {"_id": str(team_id("acme"))},
                {"$setOnInsert": {"name": "Acme", "team": "acme", "version": 1}},
                upsert=True,
            ),
        )
    ]


def test_every_creating_event_upserts_its_aggregates_document_at_version_one(created_envelopes):
    # Insert-if-absent is what makes a redelivered creation change nothing.
    for envelope in created_envelopes:
        ((collection, selector, update, upsert),) = map(unpack, writes_for(envelope))
        assert collection == COLLECTION_OF_AGGREGATE[envelope["aggregate_type"]]
        assert selector == {"_id": envelope["aggregate_id"]} and upsert
        assert list(update) == ["$setOnInsert"]
        assert update["$setOnInsert"]["team"] == "acme" and update["$setOnInsert"]["version"] == 1


def test_a_new_chatbot_document_works_on_version_one_with_its_configuration_but_no_secret(chatbot, envelopes_of):
    (envelope,) = envelopes_of(chatbot)
    _, _, update, _ = unpack(writes_for(envelope)[0])
    doc = update["$setOnInsert"]

    assert (doc["version_number"], doc["versions"], doc["default_version_number"]) == (1, [], None)
    assert doc["sort_key"] == f"{envelope['occurred_at']}|{envelope['aggregate_id']}"
    # What inspect shows: never the provider's key, nor where it is reached.
    assert set(doc["llm"]) == {"prompt", "provider", "model", "pipeline"}


def later_writes(aggregate, envelopes_of) -> list[tuple]:
    """The writes of an aggregate's events after its creation."""
    return [unpack(write) for envelope in envelopes_of(aggregate)[1:] for write in writes_for(envelope)]


def test_a_later_event_applies_only_to_the_document_at_the_previous_version(chatbot, envelopes_of):
    # The version guard makes a redelivered event a no-op and refuses one that arrives out of turn.
    for _ in range(3):
        chatbot.publish_version(str(uuid4()), "", False)

    guards = [
        (selector["version"], update["$set"]["version"])
        for _, selector, update, upsert in later_writes(chatbot, envelopes_of)
        if not upsert
    ]

    assert guards == [(1, 2), (2, 3), (3, 4)]


def test_a_revoked_key_is_marked_revoked_at_the_next_version(envelopes_of):
    key = ApiKey(id=api_key_id("p"), team="acme", prefix="p", secret_hash="h", name="n", user="u", read_only=False)
    key.revoke()

    assert later_writes(key, envelopes_of) == [
        (API_KEYS, {"_id": str(key.id), "version": 1}, {"$set": {"revoked": True, "version": 2}}, False)
    ]


def test_a_published_default_version_moves_the_default_and_the_working_number(chatbot, envelopes_of):
    chatbot.publish_version("v-one", "first", False)

    (snapshot, (collection, _, update, _)) = later_writes(chatbot, envelopes_of)

    # The version's configuration first, in a document of its own, so the version a chatbot lists can be inspected.
    assert snapshot[:2] == (CHATBOT_VERSIONS, {"_id": f"{chatbot.id}:1"})
    assert snapshot[2]["$setOnInsert"]["llm"]["pipeline"] is None and snapshot[3]
    assert collection == CHATBOTS
    assert update["$push"] == {
        "versions": {
            "version_id": "v-one",
            "name": "Bot",
            "version_number": 1,
            "version_description": "first",
            "archived": False,
        }
    }
    assert update["$set"] == {"version_number": 2, "default_version_number": 1, "version": 2}


def test_a_published_non_default_version_leaves_the_default_alone(chatbot, envelopes_of):
    chatbot.publish_version("v-one", "", False)
    chatbot.publish_version("v-two", "", False)

    *_, (_, _, update, _) = later_writes(chatbot, envelopes_of)

    assert "default_version_number" not in update["$set"]
    assert update["$set"]["version_number"] == 3


def test_appended_messages_are_inserted_by_id_then_the_session_moves_last(chat_session, envelopes_of):
    chat_session.append_messages(
        [{"id": "m1", "role": "user", "content": "a"}, {"id": "m2", "role": "assistant", "content": "b"}]
    )

    writes = later_writes(chat_session, envelopes_of)

    # The session's version moves last, so whoever waits for it also sees the messages written with it.
    assert [(collection, selector, upsert) for collection, selector, _, upsert in writes] == [
        (MESSAGES, {"_id": "m1"}, "insert"),
        (MESSAGES, {"_id": "m2"}, "insert"),
        (SESSIONS, {"_id": str(chat_session.id), "version": 1}, False),
    ]
    message = writes[0][2]
    assert message["session_id"] == str(chat_session.id) and message["team"] == "acme"
    assert (message["seq"], message["role"], message["content"], message["attachments"]) == (0, "user", "a", [])


def test_version_tags_of_appended_messages_are_added_to_the_session_once_each(chat_session, envelopes_of):
    chat_session.append_messages(
        [
            {"id": "m1", "role": "assistant", "content": "a", "tags": ["v2", "greeting"]},
            {"id": "m2", "role": "assistant", "content": "b", "tags": ["v3-unreleased", "v2"]},
        ]
    )

    *_, (_, _, update, _) = later_writes(chat_session, envelopes_of)

    assert update["$addToSet"] == {"version_tags": {"$each": ["v2", "v3-unreleased"]}}


def test_messages_without_version_tags_only_touch_the_sessions_updated_at(chat_session, envelopes_of):
    chat_session.append_messages([{"id": "m1", "role": "user", "content": "a", "tags": ["greeting"]}])
    envelope = envelopes_of(chat_session)[-1]

    *_, (_, _, update, _) = map(unpack, writes_for(envelope))

    assert update == {"$set": {"updated_at": envelope["occurred_at"], "version": 2}}


def test_an_event_of_an_unknown_type_changes_nothing(envelopes_of):
    (envelope,) = envelopes_of(Team(id=team_id("acme"), team="acme", name="Acme"))

    assert writes_for({**envelope, "type": "Team.Renamed", "data": {"whatever": 1}}) == []


def test_unknown_payload_fields_are_ignored(envelopes_of):
    # Adding a field is a compatible change (docs/events.md), so an older projector must not choke on it.
    (envelope,) = envelopes_of(Team(id=team_id("acme"), team="acme", name="Acme"))

    assert writes_for({**envelope, "data": {"name": "Acme", "added_later": True}}) == writes_for(envelope)


@pytest.mark.parametrize("tag", ["v1", "v12", "v3-unreleased"])
def test_version_tags_name_a_version_or_the_working_version(tag):
    assert is_version_tag(tag)


@pytest.mark.parametrize("tag", ["v", "v-unreleased", "V3", "x3", "3", "version3", "v3-released", "v3 ", "greeting"])
def test_other_tags_are_not_version_tags(tag):
    assert not is_version_tag(tag)


@pytest.mark.parametrize("tag", ["v²", "v٣"])
def test_only_ascii_digits_make_a_version_tag(tag):
    assert not is_version_tag(tag)


def test_a_task_is_written_once_when_it_ends_not_when_its_message_arrives(chat_session, envelopes_of):
    # A task the read model lacks is still processing, which is what the task poll answers for it.
    chat_session.submit_user_message("t1", "m1", "hi", [])
    chat_session.record_reply("t1", "m2", "hello", ["v1"])

    writes = later_writes(chat_session, envelopes_of)

    # The submission: the message (naming its task), the session's version, the session's activation.
    assert [collection for collection, *_ in writes] == [MESSAGES, SESSIONS, SESSIONS, MESSAGES, TASKS, SESSIONS]
    (_, selector, update, upsert) = writes[4]
    assert (selector, upsert, update["$set"]["status"]) == ({"_id": "t1"}, True, "complete")


def test_every_event_but_a_credentials_enters_its_teams_feed_as_published(chat_session, envelopes_of):
    (envelope,) = envelopes_of(chat_session)
    ((collection, insert),) = feed_entry(envelope)
    assert collection == EVENTS
    doc = insert._doc
    assert {key: doc[key] for key in ("_id", "team", "position", "type", "aggregate_id")} == {
        "_id": envelope["event_id"],
        "team": envelope["team"],
        "position": envelope["position"],
        "type": envelope["type"],
        "aggregate_id": envelope["aggregate_id"],
    }
    assert json.loads(doc["envelope"]) == envelope
    key = ApiKey(id=api_key_id("p"), team="acme", prefix="p", secret_hash="h", name="n", user="u", read_only=False)
    (created,) = envelopes_of(key)
    assert feed_entry(created) == []
