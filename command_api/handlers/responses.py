"""The Responses API's write side: a response starts a session or continues the one of the response it follows,
is kept once it has ended (if its client asked), and can be deleted."""

from uuid import UUID

from command_api import commands
from command_api.domain.chat_session import ChatSession
from command_api.domain.stored_response import StoredResponse
from command_api.handlers.conversations import Exchange, conversing_chatbot, new_api_session, submit_in_request
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import openai_error
from schemas.responses_api import missing_response, response_id

NO_INSTRUCTIONS = "'instructions' cannot be added to a chatbot that answers through a pipeline"


def start_response(command: commands.StartResponse, app: OcsApplication) -> Exchange:
    chatbot = conversing_chatbot(app, command.team, command.chatbot_id, command.version_number)
    config, _ = chatbot.answering_config(command.version_number)
    if command.has_instructions and config.get("pipeline"):
        raise openai_error(400, NO_INSTRUCTIONS, "instructions")
    if command.previous_response_id is None:
        session, participant = new_api_session(app, chatbot, command.team, command.participant, command.caller)
        return submit_in_request(app, session, command.text, command.version_number, command.history, participant)
    previous = kept_response(app, command.team, command.chatbot_id, command.previous_response_id)
    session = load(app, previous.session_id, ChatSession)
    return submit_in_request(app, session, command.text, command.version_number, command.history)


def store_response(command: commands.StoreResponse, app: OcsApplication) -> StoredResponse:
    response = StoredResponse(
        id=UUID(command.response_id),
        team=command.team,
        chatbot_id=command.chatbot_id,
        session_id=command.session_id,
        task_id=command.task_id,
        input_message_ids=list(command.input_message_ids),
        previous_response_id=command.previous_response_id,
        instructions=command.instructions,
        metadata=[list(pair) for pair in command.metadata],
        model=command.model,
        status=command.status,
        error=command.error,
        usage=command.usage,
        created_at=command.created_at,
    )
    app.save(response)
    return response


def delete_response(command: commands.DeleteResponse, app: OcsApplication) -> StoredResponse:
    response = kept_response(app, command.team, command.chatbot_id, command.response_id)
    response.delete()
    app.save(response)
    return response


def kept_response(app: OcsApplication, team: str, chatbot_id: str, aggregate_id: str) -> StoredResponse:
    """The chatbot's kept response, or OpenAI's 404: another team's, another chatbot's and a deleted one are missing
    alike."""
    response = load(app, aggregate_id, StoredResponse)
    if response is None or response.team != team or response.chatbot_id != chatbot_id or response.deleted:
        raise missing_response(response_id(aggregate_id))
    return response
