"""The chat widget's commands (SPEC §3.15-3.17): start a session, upload files, send a message."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from uuid import uuid4

from command_api import commands
from command_api.domain.chat_session import CHAT_ENDED, ChatSession, api_channel_id
from command_api.domain.chatbot import Chatbot
from command_api.domain.file import UNATTACHED_LIFETIME_S, File, file_aggregate_id, new_file_id
from command_api.domain.participant import Participant, participant_id
from command_api.domain.uploads import MAX_FILE_BYTES, refusal, sniffed_type
from command_api.domain.widget_channel import DEFAULT_DISABLED_MESSAGE, WidgetChannel
from command_api.domain.widget_channel import PLATFORM as WIDGET_PLATFORM
from command_api.handlers.chatbots import NO_CHATBOT
from command_api.handlers.sessions import open_session
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import detail, error
from schemas.instants import utc_iso
from schemas.session_state import PAGE_CONTEXT_KEY

VERSION_NEEDS_LOGIN = "Version number requires authentication"


@dataclass(frozen=True)
class ChatStarted:
    session: ChatSession
    chatbot: Chatbot
    participant: Participant


def start_chat_session(command: commands.StartChatSession, app: OcsApplication) -> ChatStarted:
    chatbot = load(app, command.chatbot_id, Chatbot)
    if chatbot is None:
        raise detail(404, NO_CHATBOT)
    if command.version_number is not None:
        # Only logged-in OCS users may pick a version, and this headless API has no logins (SPEC §9.3).
        raise error(403, VERSION_NEEDS_LOGIN)
    widget = load(app, command.widget_channel_id, WidgetChannel) if command.widget_channel_id else None
    if widget is not None and not widget.enabled:
        raise error(403, widget.disabled_message or DEFAULT_DISABLED_MESSAGE)
    platform = WIDGET_PLATFORM if widget else "api"
    # Anonymous callers get a new participant every time, never looked up by remote id (SPEC §3.15).
    identifier = f"anon:{uuid4()}"
    participant = Participant(
        id=participant_id(chatbot.team, platform, identifier),
        team=chatbot.team,
        identifier=identifier,
        platform=platform,
        name=command.participant_name or "Anonymous",
        remote_id=command.participant_remote_id,
        user=None,
    )
    if command.participant_name:
        participant.merge_data(str(chatbot.id), {"name": command.participant_name})
    session = open_session(
        chatbot,
        participant,
        str(widget.id) if widget else api_channel_id(chatbot.team),
        platform,
        "active",
        {PAGE_CONTEXT_KEY: command.page_context} if command.page_context is not None else {},
        widget.issues_session_tokens if widget else True,
    )
    app.save(participant, session)
    return ChatStarted(session, chatbot, participant)


def require_chat_session(app: OcsApplication, session_id: str) -> ChatSession:
    session = load(app, session_id, ChatSession)
    if session is None:  # admission refuses missing sessions first; this guards a race with nothing
        raise error(403, "Session does not exist")
    if session.status == CHAT_ENDED:
        raise error(400, "Session has ended")
    return session


def upload_chat_files(command: commands.UploadChatFiles, app: OcsApplication) -> list[File]:
    session = require_chat_session(app, command.session_id)
    if not command.files:
        raise error(400, "No files provided")
    total = 0
    accepted = []
    for upload in command.files:
        size = len(upload.content)
        if size > MAX_FILE_BYTES:
            raise error(400, f"File '{upload.name}' exceeds maximum size of 50MB")
        content_type = sniffed_type(upload.name, upload.claimed_type, upload.content)
        reason = refusal(upload.name, upload.claimed_type, content_type)
        if reason:
            raise error(400, reason)
        total += size
        accepted.append((upload, content_type))
    if total > MAX_FILE_BYTES:
        raise error(400, "Total file size exceeds maximum of 50MB")
    expires_at = utc_iso(datetime.now(timezone.utc) + timedelta(seconds=UNATTACHED_LIFETIME_S))
    created = []
    for upload, content_type in accepted:
        file_id = new_file_id()
        app.files.write(file_id, upload.content)
        created.append(
            File(
                id=file_aggregate_id(file_id),
                team=session.team,
                file_id=file_id,
                session_id=str(session.id),
                name=upload.name,
                content_type=content_type,
                size=len(upload.content),
                purpose="message_media",
                expires_at=expires_at,
                metadata={
                    "session_id": str(session.id),
                    "participant_remote_id": command.participant_remote_id,
                    "participant_name": command.participant_name,
                },
            )
        )
    app.save(*created)
    return created


@dataclass(frozen=True)
class MessageSubmitted:
    task_id: str
    session: ChatSession


def submit_chat_message(command: commands.SubmitChatMessage, app: OcsApplication) -> MessageSubmitted:
    session = require_chat_session(app, command.session_id)
    if command.version_number is not None:
        raise error(403, VERSION_NEEDS_LOGIN)
    attachments = [load(app, file_aggregate_id(file_id), File) for file_id in command.attachment_ids]
    now = utc_iso(datetime.now(timezone.utc))
    valid = all(
        file is not None
        and file.team == session.team
        and file.purpose == "message_media"
        and file.session_id == str(session.id)
        and not file.expired(now)
        for file in attachments
    )
    if not valid or len(set(command.attachment_ids)) != len(command.attachment_ids):
        raise error(400, "One or more file IDs are invalid")
    task_id, message_id = command.task_id or str(uuid4()), str(uuid4())
    described = [
        {"id": file.file_id, "name": file.name, "content_type": file.content_type, "size": file.size}
        for file in attachments
    ]
    if command.context is not None:
        session.set_remote_context(command.context)
    session.submit_user_message(task_id, message_id, command.text, described)
    for file in attachments:
        file.attach(message_id)
    app.save(session, *attachments)
    return MessageSubmitted(task_id, session)
