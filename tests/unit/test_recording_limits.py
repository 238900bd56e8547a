"""The write model records only what it can read back and publish: client JSON shaped like the event store's own
encoding round-trips exactly, and a change too large for one broker message is refused whole."""

import pytest

from command_api import commands
from command_api.domain.chat_session import ChatSession
from command_api.write_model.application import EventTooLarge
from command_api.write_model.repository import load
from command_api.write_model.transcoding import ClientSafeJSONTranscoder
from infra.kafka import DEFAULT_MAX_MESSAGE_BYTES, max_event_bytes

MARKER_SHAPED = [
    {"_type_": "nope", "_data_": 1},
    {"_type_": "datetime_iso", "_data_": "2020-01-01T00:00:00"},
    {"_type_": "uuid_hex", "_data_": "not hex"},
    {"_type_": "ocs_object", "_data_": [["a", 1]]},
    {"_type_": {"_type_": "decimal_str", "_data_": "1"}, "_data_": [{"_type_": "x", "_data_": None}]},
]


@pytest.mark.parametrize("value", MARKER_SHAPED)
def test_objects_shaped_like_the_transcoders_own_encoding_round_trip_exactly(value):
    transcoder = ClientSafeJSONTranscoder()
    document = {"page_context": {"p": value}, "list": [value, {"deeper": value}], "plain": {"_type_": 1}}

    assert transcoder.decode(transcoder.encode(document)) == document


def test_encoding_without_marker_shaped_objects_is_eventsourcings_own():
    transcoder = ClientSafeJSONTranscoder()
    document = {"a": [1, {"b": "c"}], "_type_": "only one of the two keys"}

    assert transcoder.encode(document) == b'{"a":[1,{"b":"c"}],"_type_":"only one of the two keys"}'


@pytest.mark.parametrize("value", MARKER_SHAPED)
def test_a_session_whose_state_holds_marker_shaped_objects_loads_and_publishes(
    app, other_process, create_session, value
):
    session_id = create_session(state={"s": value}, page_context={"p": value}).session.id

    reloaded = load(other_process, session_id, ChatSession)

    assert reloaded.state == {"s": value, "page_context": {"p": value}}
    (created,) = [e for e in other_process.all_envelopes() if e["type"] == "ChatSession.Created"]
    assert created["data"]["state"] == {"s": value, "page_context": {"p": value}}


def test_a_change_too_large_for_one_broker_message_is_refused_and_nothing_is_recorded(app, create_session, event_types):
    recorded = event_types()
    limit = max_event_bytes(DEFAULT_MAX_MESSAGE_BYTES)

    with pytest.raises(EventTooLarge) as refused:
        create_session(messages=({"role": "user", "content": "x" * limit},))

    assert refused.value.status == 413
    assert f"the most is {limit}" in refused.value.body["detail"]
    assert event_types() == recorded


def test_non_ascii_text_counts_as_its_utf8_bytes(app, create_session):
    # 300,000 characters of three bytes each: 900 KB, under the limit (escaped as \\uXXXX it would be 1.8 MB).
    create_session(page_context={"text": "\u4e2d" * 300_000})


def test_a_reply_too_large_to_record_is_refused_like_any_other_change(app, bus, create_session):
    session = create_session().session
    submitted = bus.handle(commands.SubmitChatMessage(str(session.id), "hi", None, (), None))

    with pytest.raises(EventTooLarge):
        bus.handle(commands.RecordReply(str(session.id), submitted.task_id, "x" * DEFAULT_MAX_MESSAGE_BYTES, ("v1",)))

    assert not load(app, session.id, ChatSession).is_answered(submitted.task_id)
