"""The Responses API's handlers on a real (temporary SQLite) event store: a response starts or continues a session,
is kept and deleted as events, and is missing alike for other teams, other chatbots and after its deletion."""

import uuid

import pytest

from command_api import commands
from command_api.domain.stored_response import StoredResponse
from command_api.write_model.repository import load
from schemas.errors import ApiError
from tests.write_model import new_chatbot, new_team_with_chatbot


def start_fields(team, chatbot_id, **more) -> dict:
    fields = dict(team=team, caller=f"admin@{team}", chatbot_id=chatbot_id, version_number=None, participant=None)
    return fields | {"history": (), "text": "hi"} | more


def start(bus, team, chatbot_id, **more):
    return bus.handle(commands.StartResponse(**start_fields(team, chatbot_id, **more)))


def keep(bus, team, chatbot_id, exchange) -> str:
    response_id = str(uuid.uuid4())
    bus.handle(
        commands.StoreResponse(
            response_id=response_id,
            team=team,
            chatbot_id=chatbot_id,
            session_id=str(exchange.session.id),
            task_id=exchange.task_id,
            input_message_ids=exchange.input_message_ids,
            previous_response_id=None,
            instructions=None,
            metadata=(("_type_", "x"), ("_data_", "y")),
            model="m",
            status="completed",
            error=None,
            usage=None,
            created_at=1,
        )
    )
    return response_id


def missing(bus, command) -> dict:
    with pytest.raises(ApiError) as raised:
        bus.handle(command)
    assert raised.value.status == 404
    return raised.value.body["error"]


def test_a_kept_response_is_continued_in_its_session_until_it_is_deleted(bus, team, chatbot_id, event_types):
    first = start(bus, team, chatbot_id, history=({"role": "system", "content": "be brief"},))
    assert len(first.input_message_ids) == 2 and first.input_message_ids[-1] == first.message["id"]
    response_id = keep(bus, team, chatbot_id, first)
    # Client metadata is kept as pairs: an object of exactly `_type_` and `_data_` would read back as an encoded value.
    (created,) = bus.app.events.get(uuid.UUID(response_id))
    assert created.metadata == [["_type_", "x"], ["_data_", "y"]]
    assert load(bus.app, response_id, StoredResponse).session_id == str(first.session.id)
    second = start(bus, team, chatbot_id, text="again", previous_response_id=response_id)
    assert second.session.id == first.session.id and second.input_message_ids == (second.message["id"],)
    bus.handle(commands.DeleteResponse(team, chatbot_id, response_id))
    assert event_types()[-1] == "StoredResponse.Deleted"
    assert "not found" in missing(bus, commands.DeleteResponse(team, chatbot_id, response_id))["message"]
    missing(bus, commands.StartResponse(**start_fields(team, chatbot_id), previous_response_id=response_id))


def test_another_teams_or_chatbots_response_is_missing(bus, team, chatbot_id):
    response_id = keep(bus, team, chatbot_id, start(bus, team, chatbot_id))
    other_chatbot = new_chatbot(bus, team)
    other_teams_chatbot = new_team_with_chatbot(bus, "other")
    for owner, chatbot in ((team, other_chatbot), ("other", other_teams_chatbot)):
        missing(bus, commands.DeleteResponse(owner, chatbot, response_id))
        missing(bus, commands.StartResponse(**start_fields(owner, chatbot), previous_response_id=response_id))
    missing(bus, commands.DeleteResponse(team, chatbot_id, str(uuid.uuid4())))


def test_instructions_are_refused_for_a_chatbot_that_answers_through_a_pipeline(bus, team):
    pipeline = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "t", "type": "render_template", "template": "{input}"},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"from": "start", "to": "t"}, {"from": "t", "to": "end"}],
    }
    piped = new_chatbot(bus, team, pipeline=pipeline)
    with pytest.raises(ApiError) as raised:
        bus.handle(commands.StartResponse(**start_fields(team, piped), has_instructions=True))
    assert (raised.value.status, raised.value.body["error"]["param"]) == (400, "instructions")
    assert start(bus, team, piped).task_id
