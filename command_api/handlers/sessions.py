"""Sessions through the team API (SPEC §3.3-3.7), and opening a session, which every way in to a conversation shares."""

from dataclasses import dataclass
from uuid import uuid4

from command_api import commands
from command_api.domain.chat_session import ChatSession, TooManyTags, api_channel_id
from command_api.domain.chatbot import Chatbot
from command_api.domain.participant import Participant, participant_id
from command_api.domain.team import Team
from command_api.handlers.teams_and_keys import require_team
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import detail, error, field_errors
from schemas.session_state import PAGE_CONTEXT_KEY

NOT_ENDED = ("setup", "pending", "active")


@dataclass(frozen=True)
class SessionCreated:
    session: ChatSession
    chatbot: Chatbot
    participant: Participant
    team: Team


def create_session(command: commands.CreateSession, app: OcsApplication) -> SessionCreated:
    chatbot = load(app, command.experiment, Chatbot)
    if chatbot is None:
        raise field_errors({"experiment": [f"Object with public_id={command.experiment} does not exist."]})
    if chatbot.team != command.team:
        raise detail(404, "Experiment not found")
    identifier = command.participant or command.caller
    if not identifier:
        raise field_errors({"participant": "This field is required."})
    participant = participant_on_platform(app, command.team, "api", identifier, command.caller)
    state = dict(command.state)
    if command.page_context is not None:
        state[PAGE_CONTEXT_KEY] = command.page_context
    session = open_session(chatbot, participant, api_channel_id(command.team), None, "setup", state, True)
    if command.messages:
        session.append_messages([{**message, "id": str(uuid4())} for message in command.messages])
    app.save(participant, session)
    return SessionCreated(session, chatbot, participant, require_team(app, command.team))


def open_session(
    chatbot: Chatbot,
    participant: Participant,
    channel_id: str,
    platform: str | None,
    status: str,
    state: dict,
    session_token_required: bool,
) -> ChatSession:
    """A new session of a participant with a chatbot; save both."""
    session = ChatSession(
        id=uuid4(),
        team=chatbot.team,
        chatbot_id=str(chatbot.id),
        participant_id=str(participant.id),
        participant_identifier=participant.identifier,
        participant_remote_id=participant.remote_id,
        channel_id=channel_id,
        platform=platform,
        status=status,
        state=state,
        session_token_required=session_token_required,
    )
    participant.join_session(str(chatbot.id), str(session.id))
    return session


def participant_on_platform(
    app: OcsApplication, team: str, platform: str, identifier: str, user: str | None
) -> Participant:
    """The participant with that identifier on that platform, created (not yet saved) if new."""
    pid = participant_id(team, platform, identifier)
    return load(app, pid, Participant) or Participant(
        id=pid, team=team, identifier=identifier, platform=platform, name="", remote_id="", user=user
    )


def team_session(app: OcsApplication, team: str, session_id: str, missing_text: str) -> ChatSession:
    session = load(app, session_id, ChatSession)
    if session is None or session.team != team:
        raise error(404, missing_text)
    return session


def end_session(command: commands.EndSession, app: OcsApplication) -> ChatSession:
    # OCS's text has a literal `{id}` (quirk Q2, mirrored).
    session = team_session(app, command.team, command.session_id, "Session not found:{id}")
    session.end(via="api")
    app.save(session)
    return session


def tag_session(command: commands.TagSession, app: OcsApplication) -> ChatSession:
    session = team_session(app, command.team, command.session_id, f"Session not found: {command.session_id}")
    if command.remove:
        session.remove_tags(list(command.tags))
    else:
        try:
            session.add_tags(list(command.tags))
        except TooManyTags as exc:
            raise error(400, str(exc)) from None
    app.save(session)
    return session


def replace_session_state(command: commands.ReplaceSessionState, app: OcsApplication) -> ChatSession:
    session = team_session(app, command.team, command.session_id, f"Session not found: {command.session_id}")
    session.replace_state(command.state)
    app.save(session)
    return session
