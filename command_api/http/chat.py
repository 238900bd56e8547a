"""The chat endpoints that write (SPEC §3.15-3.17): start a session, upload files, send a message."""

import uuid

from flask import Blueprint, g, request

from command_api import commands
from command_api.bus import CommandBus
from command_api.domain.chatbot import Chatbot
from command_api.domain.widget_channel import WidgetChannel, oauth_widget_channel_id
from command_api.http import documents
from command_api.http.admission_lookup import WriteModelChatAccess
from command_api.read_your_writes import ReadModelWaiter
from command_api.write_model.repository import load
from infra.authentication import CredentialStore, bearer_token, oauth_caller
from infra.chat_admission import admit_chat_caller, admit_widget, embed_key, host_allowed, request_host
from infra.permissions import admits_own_callers
from infra.rate_limits import client_address, throttle
from infra.session_tokens import SessionTokens
from infra.web import MAX_UPLOAD_BODY_BYTES, base_url, json_body, json_response, multipart_form, validated
from schemas import representations
from schemas.errors import ApiError, detail
from schemas.ids import canonical_uuid
from schemas.read_models import FILES, SESSIONS
from schemas.requests import ChatMessageRequest, ChatStartRequest

CHAT_ACCESS_DENIED = {"error": "Authentication required to chat with this chatbot", "code": "chat_access_denied"}


def chat_blueprint(
    bus: CommandBus,
    waiter: ReadModelWaiter,
    tokens: SessionTokens,
    credentials: CredentialStore,
    access: WriteModelChatAccess,
) -> Blueprint:
    chat = Blueprint("chat", __name__)

    def admit(session_id: str) -> str:
        admit_chat_caller(access.session(session_id), access.widget_by_key, access.widget_by_id, tokens)
        return session_id

    @chat.post("/chat/start/")
    @admits_own_callers
    def chat_start_session():
        raw = json_body()
        widget_channel_id = admit_start(raw)
        throttle("chat_api", f"channel:{widget_channel_id}" if widget_channel_id else f"address:{client_address()}")
        body = validated(ChatStartRequest(), raw)
        started = bus.handle(
            commands.StartChatSession(
                chatbot_id=body["chatbot_id"],
                widget_channel_id=widget_channel_id,
                version_number=body["version_number"],
                participant_remote_id=body["participant_remote_id"],
                participant_name=body["participant_name"],
                page_context=body["page_context"],
            )
        )
        session = started.session
        waiter.wait(SESSIONS, str(session.id), session.version)
        token = tokens.mint(str(session.id)) if session.session_token_required else None
        chatbot = documents.chatbot_document(started.chatbot)
        participant = documents.participant_document(started.participant)
        return json_response(
            representations.chat_started(str(session.id), token, chatbot, participant, base_url()), 201
        )

    def admit_start(raw) -> str | None:
        """Admission of a start (SPEC §3.15 a, c): the admitted widget channel's id, or None (keyless)."""
        chatbot_id = raw.get("chatbot_id") if isinstance(raw, dict) else None
        key = embed_key()
        has_authorization = "Authorization" in request.headers
        if (key or has_authorization) and chatbot_id is not None and canonical_uuid(chatbot_id) is None:
            raise detail(400, "chatbot_id must be a valid UUID")
        chatbot = load(bus.app, chatbot_id, Chatbot) if has_authorization and chatbot_id else None
        if chatbot is not None:
            return admit_oauth_start(chatbot)
        if not key:
            return None
        if not chatbot_id:
            raise detail(400, "Experiment ID required for embedded widget authentication")
        return admit_widget(access.widget_by_key(key), str(uuid.UUID(str(chatbot_id))), 401).channel_id

    def admit_oauth_start(chatbot: Chatbot) -> str:
        """SPEC §3.15 (a): a machine token of the chatbot's team, holding `chat:start` and listing the chatbot,
        through the chatbot's OAuth-mode channel from an origin it allows. Any failure: the same 401."""
        channel = load(bus.app, oauth_widget_channel_id(chatbot.id), WidgetChannel)
        caller = oauth_caller(credentials, bearer_token())
        if (
            channel is None
            or caller is None
            or not caller.is_machine
            or caller.team != chatbot.team
            or "chat:start" not in caller.scopes
            or str(chatbot.id) not in caller.chatbots
            or not origin_allowed(channel.allowed_domains)
        ):
            raise ApiError(401, CHAT_ACCESS_DENIED)
        return str(channel.id)

    @chat.post("/chat/<uuid:session_id>/message/")
    @admits_own_callers
    def chat_send_message(session_id):
        session_id = admit(str(session_id))
        body = validated(ChatMessageRequest(), json_body())
        submitted = bus.handle(
            commands.SubmitChatMessage(
                session_id=session_id,
                text=body["message"],
                context=body["context"],
                attachment_ids=tuple(body["attachment_ids"]),
                version_number=body["version_number"],
                task_id=g.get("request_id"),
            )
        )
        # Read-your-writes, as every write: a poll right after this answer shows the user's own message.
        session = submitted.session
        waiter.wait(SESSIONS, str(session.id), session.version)
        return json_response(representations.message_accepted(submitted.task_id), 202)

    @chat.post("/chat/<uuid:session_id>/<task_id>/cancel/")
    @admits_own_callers
    def chat_cancel_task(session_id, task_id):
        """Beyond OCS: stop generating a reply; what was generated so far becomes the reply, marked cancelled."""
        session = bus.handle(commands.CancelReply(admit(str(session_id)), task_id))
        waiter.wait(SESSIONS, str(session.id), session.version)
        return json_response(representations.task_cancelling(task_id), 202)

    @chat.post("/chat/<uuid:session_id>/upload/")
    @admits_own_callers
    def chat_upload_file(session_id):
        request.max_content_length = MAX_UPLOAD_BODY_BYTES
        session_id = admit(str(session_id))
        if request.mimetype != "multipart/form-data":
            raise detail(415, f'Unsupported media type "{request.content_type or ""}" in request.')
        form, files = multipart_form()
        uploaded = bus.handle(
            commands.UploadChatFiles(
                session_id=session_id,
                files=tuple(
                    commands.UploadedContent(part.filename or "file", part.mimetype or "", part.read())
                    for part in files.getlist("files")
                ),
                participant_remote_id=form.get("participant_remote_id", ""),
                participant_name=form.get("participant_name", ""),
            )
        )
        waiter.wait_all(FILES, {str(file.id): file.version for file in uploaded})
        return json_response(representations.files_uploaded([documents.file_document(file) for file in uploaded]), 201)

    return chat


def origin_allowed(allowed_domains) -> bool:
    """A channel without allowed domains is for servers only: a browser's request carries an origin."""
    host = request_host()
    return host_allowed(allowed_domains, host) if allowed_domains else host is None
