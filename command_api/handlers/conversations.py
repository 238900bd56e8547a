"""Conversations answered within the request (SPEC §3.10-3.13): chat completions and `incoming_message`."""

from dataclasses import dataclass
from uuid import uuid4

from command_api import commands
from command_api.domain.chat_session import ChatSession, api_channel_id
from command_api.domain.chatbot import Chatbot
from command_api.handlers.chatbots import NO_CHATBOT
from command_api.handlers.sessions import NOT_ENDED, open_session, participant_on_platform
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import detail, field_errors


def conversing_chatbot(app: OcsApplication, team: str, chatbot_id: str, version_number: int | None) -> Chatbot:
    """The team's chatbot and a version it can answer with, or the SPEC's 404 before anything is written."""
    chatbot = load(app, chatbot_id, Chatbot)
    if chatbot is None or chatbot.team != team:
        raise detail(404, NO_CHATBOT)
    if chatbot.answering_config(version_number) is None:
        raise detail(404, f"Experiment with version {version_number} not found")
    return chatbot


@dataclass(frozen=True)
class Exchange:
    """A user message accepted for an answer within the request (no task for `/reset`)."""

    session: ChatSession
    task_id: str | None
    message: dict | None
    version: int | None
    input_message_ids: tuple[str, ...] = ()  # the messages the request added to the session, in order


def start_completion(command: commands.StartCompletion, app: OcsApplication) -> Exchange:
    chatbot = conversing_chatbot(app, command.team, command.chatbot_id, command.version_number)
    session, participant = new_api_session(app, chatbot, command.team, command.participant, command.caller)
    return submit_in_request(app, session, command.text, command.version_number, command.history, participant)


def new_api_session(app: OcsApplication, chatbot: Chatbot, team: str, participant: str | None, caller: str | None):
    """(a new session on the team's API channel, its participant): the one named, or else the caller."""
    identifier = participant or caller
    if not identifier:
        raise field_errors({"participant": "This field is required."})
    on_platform = participant_on_platform(app, team, "api", identifier, caller)
    return open_session(chatbot, on_platform, api_channel_id(team), None, "setup", {}, True), on_platform


def submit_in_request(
    app, session: ChatSession, text: str, version_number: int | None, history: tuple[dict, ...] = (), *others
) -> Exchange:
    """The history, then the message to answer, recorded in one write."""
    appended = [{**message, "id": str(uuid4())} for message in history]
    if appended:
        session.append_messages(appended)
    task_id = str(uuid4())
    message = session.submit_user_message(
        task_id, str(uuid4()), text, [], version_number=version_number, answered_in_request=True
    )
    app.save(*others, session)
    return Exchange(session, task_id, message, version_number, (*(m["id"] for m in appended), message["id"]))


RESET = "/reset"


def send_api_message(command: commands.SendApiMessage, app: OcsApplication) -> Exchange:
    """`incoming_message`: the caller talks as themself, continuing their conversation (SPEC §3.12)."""
    chatbot = conversing_chatbot(app, command.team, command.chatbot_id, command.version_number)
    if not command.caller:
        raise field_errors({"participant": "This field is required."})
    participant = participant_on_platform(app, command.team, "api", command.caller, command.caller)
    if command.session_id:
        session = load(app, command.session_id, ChatSession)
        if (
            session is None
            or session.chatbot_id != str(chatbot.id)
            or session.participant_id != str(participant.id)
            or session.channel_id != api_channel_id(command.team)
        ):
            raise detail(404, "Not found.")
    else:
        latest = load(app, participant.latest_session(str(chatbot.id)), ChatSession)
        session = latest if latest is not None and latest.status in NOT_ENDED else None
    if command.text.strip().lower() == RESET:
        if session is not None:
            session.end(via="user")
            app.save(session)
        fresh = open_session(chatbot, participant, api_channel_id(command.team), None, "setup", {}, True)
        app.save(participant, fresh)
        return Exchange(fresh, None, None, None)
    if session is None:
        session = open_session(chatbot, participant, api_channel_id(command.team), None, "setup", {}, True)
    return submit_in_request(app, session, command.text, command.version_number, (), participant)
