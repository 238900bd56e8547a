"""The bot's answer to a user's message, recorded once: its reply (with what a pipeline changed) or its failure; and
a user's request to stop generating it."""

import logging
from uuid import uuid4

from command_api import commands
from command_api.domain.chat_session import ChatSession, TooManyTags
from command_api.domain.participant import Participant
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import detail

log = logging.getLogger(__name__)


def record_reply(command: commands.RecordReply, app: OcsApplication) -> ChatSession | None:
    """Record the bot's reply to a task, once: a task already answered is left as it is. What a pipeline
    changed (state, participant data, tags, the session's end) is recorded in the same write."""
    session = load(app, command.session_id, ChatSession)
    if session is None or session.is_answered(command.task_id):
        return None
    trace = list(command.trace) if command.trace is not None else None
    session.record_reply(
        command.task_id,
        str(uuid4()),
        command.text,
        list(command.tags),
        trace,
        command.metadata,
        command.usage,
        command.model,
    )
    if command.state is not None and command.state != session.state:
        session.replace_state(command.state)
    try:
        session.add_tags(list(command.session_tags))
    except TooManyTags:
        log.warning("session %s has too many tags to add a pipeline's %d", session.id, len(command.session_tags))
    changed = []
    participant = load(app, session.participant_id, Participant) if command.participant_data is not None else None
    if participant is not None and participant.data_for(session.chatbot_id) != command.participant_data:
        participant.replace_data(session.chatbot_id, command.participant_data)
        changed.append(participant)
    if command.ends_session:
        session.end(via="bot")
    app.save(session, *changed)
    return session


TASK_FINISHED = "The task has already finished."


def cancel_reply(command: commands.CancelReply, app: OcsApplication) -> ChatSession:
    """Ask the worker generating a task's reply to stop; a second ask changes nothing. A task that has finished,
    or that this session never had, is refused (409, 404)."""
    session = load(app, command.session_id, ChatSession)
    if session is None or command.task_id not in session.tasks:
        raise detail(404, "Not found.")
    if session.is_answered(command.task_id):
        raise detail(409, TASK_FINISHED)
    session.request_cancel(command.task_id)
    app.save(session)
    return session


def record_reply_failure(command: commands.RecordReplyFailure, app: OcsApplication) -> ChatSession | None:
    session = load(app, command.session_id, ChatSession)
    if session is None or session.is_answered(command.task_id):
        return None
    session.record_failure(command.task_id, command.error, command.user_facing)
    app.save(session)
    return session
