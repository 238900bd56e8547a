"""Messages the bot starts (SPEC §3.9 trigger_bot) and their delivery to a messaging channel's webhook."""

from dataclasses import dataclass
from uuid import uuid4

from command_api import commands
from command_api.domain.chat_session import ChatSession
from command_api.domain.chatbot import Chatbot
from command_api.domain.messaging_channel import MessagingChannel, messaging_channel_id
from command_api.domain.participant import Participant
from command_api.domain.team import Team
from command_api.handlers.chatbots import NO_CHATBOT
from command_api.handlers.sessions import NOT_ENDED, open_session, participant_on_platform
from command_api.handlers.teams_and_keys import require_team
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import detail


@dataclass(frozen=True)
class BotMessageTriggered:
    session: ChatSession
    team: Team
    participant: Participant  # its data merged
    ended: tuple[ChatSession, ...]  # the session `start_new_session` ended, if any


def trigger_bot_message(command: commands.TriggerBotMessage, app: OcsApplication) -> BotMessageTriggered:
    chatbot = load(app, command.chatbot_id, Chatbot)
    if chatbot is None or chatbot.team != command.team:
        raise detail(404, NO_CHATBOT)
    channel = load(app, messaging_channel_id(str(chatbot.id), command.platform), MessagingChannel)
    if channel is None:
        raise detail(400, f"Chatbot cannot send messages on the {command.platform} channel. Create the channel first.")
    identifier = command.identifier.lower() if command.platform == "commcare_connect" else command.identifier
    participant = participant_on_platform(app, command.team, command.platform, identifier, None)
    if command.participant_data:
        participant.merge_data(str(chatbot.id), command.participant_data)
    latest = load(app, participant.latest_session(str(chatbot.id)), ChatSession)
    ongoing = (
        latest if latest is not None and latest.status in NOT_ENDED and latest.channel_id == str(channel.id) else None
    )
    ended = []
    if ongoing is not None and command.start_new_session:
        ongoing.end(via="user")
        ended, ongoing = [ongoing], None
    session = ongoing or open_session(chatbot, participant, str(channel.id), command.platform, "setup", {}, False)
    session.merge_state(command.session_data)
    session.request_bot_message(str(uuid4()), command.prompt_text, command.message_text)
    app.save(participant, *ended, session)
    return BotMessageTriggered(session, require_team(app, command.team), participant, tuple(ended))


def record_bot_message(command: commands.RecordBotMessage, app: OcsApplication) -> ChatSession | None:
    """Record the bot's message for a trigger, once."""
    session = load(app, command.session_id, ChatSession)
    if session is None or session.is_answered(command.task_id):
        return None
    channel = load(app, session.channel_id, MessagingChannel)
    session.record_bot_message(
        command.task_id,
        str(uuid4()),
        command.text,
        {"direct_to_user": True} if command.direct_to_user else {},
        list(command.tags),
        session.channel_id,
        channel.platform if channel else session.platform,
        command.usage,
        command.model,
    )
    app.save(session)
    return session


def record_delivery(command: commands.RecordDelivery, app: OcsApplication) -> ChatSession | None:
    session = load(app, command.session_id, ChatSession)
    if session is None:
        return None
    session.record_delivery(command.message_id, command.delivered, command.attempts, command.error)
    app.save(session)
    return session
