"""Command handlers: each loads aggregates from the write model, decides, and saves their new events.

Every decision that must be consistent (does it exist, whose team is it) is made here, on the event
store, never on a read model.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse
from uuid import UUID, uuid4

from command_api import commands
from command_api.domain.api_key import ApiKey, api_key_id
from command_api.domain.authorization_code import AuthorizationCode
from command_api.domain.base import utc_iso
from command_api.domain.chat_session import CHAT_ENDED, ChatSession, TooManyTags, api_channel_id
from command_api.domain.chatbot import Chatbot
from command_api.domain.file import UNATTACHED_LIFETIME_S, File, file_aggregate_id, new_file_id
from command_api.domain.messaging_channel import NOT_MESSAGING, MessagingChannel, messaging_channel_id
from command_api.domain.oauth_client import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    GRANT_TYPES,
    SCOPES,
    OAuthClient,
    oauth_client_id,
)
from command_api.domain.oauth_token import OAuthToken
from command_api.domain.participant import Participant, derived_schedule_id, participant_id
from command_api.domain.team import Team, team_id
from command_api.domain.widget_channel import (
    AUTH_LEVELS,
    CREDENTIAL_MODES,
    DEFAULT_DISABLED_MESSAGE,
    WidgetChannel,
    oauth_widget_channel_id,
)
from command_api.domain.widget_channel import PLATFORM as WIDGET_PLATFORM
from command_api.uploads import MAX_FILE_BYTES, refusal, sniffed_type
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.credentials import hash_secret, new_api_key, new_embed_key, new_oauth_client
from schemas.chatbots import PROVIDERS
from schemas.errors import ApiError, detail, error, field_errors, oauth_error
from schemas.ids import widget_channel_id
from schemas.roles import ROLES
from schemas.session_state import PAGE_CONTEXT_KEY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a command answers, and the aggregate it changed (whose read model a caller may wait for)."""

    body: dict
    aggregate: object


SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


def require_team(app: OcsApplication, slug: str) -> Team:
    team = load(app, team_id(slug), Team)
    if team is None:
        raise detail(404, f"team {slug!r} does not exist")
    return team


def require_chatbot(app: OcsApplication, chatbot_id: str) -> Chatbot:
    chatbot = load(app, chatbot_id, Chatbot)
    if chatbot is None:
        raise detail(404, f"chatbot {chatbot_id!r} does not exist")
    return chatbot


def create_team(command: commands.CreateTeam, app: OcsApplication) -> Outcome:
    if not SLUG.fullmatch(command.slug):
        raise detail(400, f"invalid team slug {command.slug!r}: use lowercase letters, digits, '-' and '_'")
    if load(app, team_id(command.slug), Team) is not None:
        raise detail(409, f"team {command.slug!r} already exists")
    team = Team(id=team_id(command.slug), team=command.slug, name=command.name)
    app.save(team)
    return Outcome({"slug": team.team, "name": team.name}, team)


def require_roles(roles) -> None:
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise detail(400, f"unknown role(s) {', '.join(unknown)}: use {', '.join(ROLES)}")


def instant(text: str) -> str:
    """An ISO-8601 instant in the one text form (UTC when it names no zone)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise detail(400, f"not an ISO-8601 instant: {text!r}") from None
    return utc_iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc))


def issue_api_key(command: commands.IssueApiKey, app: OcsApplication) -> Outcome:
    require_team(app, command.team)
    require_roles(command.roles)
    prefix, secret, key = new_api_key()
    api_key = ApiKey(
        id=api_key_id(prefix),
        team=command.team,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        name=command.name,
        user=command.user or f"admin@{command.team}",
        read_only=command.read_only,
        roles=list(command.roles),
        expires_at=instant(command.expires_at) if command.expires_at else None,
    )
    app.save(api_key)
    return Outcome(
        {"key": key, "read_only": api_key.read_only, "roles": api_key.roles, "expires_at": api_key.expires_at},
        api_key,
    )


def revoke_api_key(command: commands.RevokeApiKey, app: OcsApplication) -> Outcome:
    api_key = load(app, api_key_id(command.prefix), ApiKey)
    if api_key is None:
        raise detail(404, f"no API key with prefix {command.prefix!r}")
    api_key.revoke()
    app.save(api_key)
    return Outcome({"revoked": True}, api_key)


def register_oauth_client(command: commands.RegisterOAuthClient, app: OcsApplication) -> Outcome:
    require_team(app, command.team)
    if command.grant_type not in GRANT_TYPES:
        raise detail(400, f"unknown grant {command.grant_type!r}: use one of {', '.join(GRANT_TYPES)}")
    unknown = [scope for scope in command.scopes if scope not in SCOPES]
    if unknown or not command.scopes:
        raise detail(400, f"unknown scope(s) {' '.join(unknown)}: use some of {' '.join(SCOPES)}")
    for chatbot_id in command.chatbots:
        if require_chatbot(app, chatbot_id).team != command.team:
            raise detail(404, f"chatbot {chatbot_id!r} does not exist")
    if command.grant_type == AUTHORIZATION_CODE:
        if command.chatbots:
            raise detail(400, "a chatbot allowlist limits machine clients only (client_credentials)")
        if not command.redirect_uris:
            raise detail(400, "an authorization_code client needs at least one redirect URI")
    for uri in command.redirect_uris:
        parsed = urlparse(uri)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.fragment:
            raise detail(400, f"a redirect URI is an absolute http(s) URL without a fragment: {uri!r}")
    if command.token_lifetime_s < 1:
        raise detail(400, "a token lifetime is at least one second")
    client_id, client_secret = new_oauth_client()
    client = OAuthClient(
        id=oauth_client_id(client_id),
        team=command.team,
        client_id=client_id,
        secret_hash=hash_secret(client_secret),
        name=command.name,
        grant_type=command.grant_type,
        scopes=list(dict.fromkeys(command.scopes)),
        chatbots=[str(UUID(chatbot_id)) for chatbot_id in dict.fromkeys(command.chatbots)],
        redirect_uris=list(command.redirect_uris),
        token_lifetime_s=command.token_lifetime_s,
    )
    app.save(client)
    return Outcome({"client_id": client_id, "client_secret": client_secret}, client)


def require_oauth_client(app: OcsApplication, client_id: str) -> OAuthClient:
    client = load(app, oauth_client_id(client_id), OAuthClient)
    if client is None:
        raise oauth_error("invalid_client", "The client does not exist on this server.")
    return client


def issue_authorization_code(command: commands.IssueAuthorizationCode, app: OcsApplication) -> Outcome:
    client = require_oauth_client(app, command.client_id)
    code = AuthorizationCode(
        id=UUID(command.code_id),
        team=client.team,
        client_id=client.client_id,
        secret_hash=command.secret_hash,
        user=command.user,
        roles=list(command.roles),
        scopes=list(command.scopes),
        redirect_uri=command.redirect_uri,
        code_challenge=command.code_challenge,
        code_challenge_method=command.code_challenge_method,
    )
    app.save(code)
    return Outcome({}, code)


def issue_oauth_token(command: commands.IssueOAuthToken, app: OcsApplication) -> Outcome:
    client = require_oauth_client(app, command.client_id)
    consumed = []
    if command.redeems_code:
        code = load(app, command.redeems_code, AuthorizationCode)
        if code is None or code.redeemed_by is not None:
            raise oauth_error("invalid_grant", "The authorization code was already used.")
        code.redeem(command.token_id)
        consumed.append(code)
    if command.replaces_token:
        replaced = load(app, command.replaces_token, OAuthToken)
        if replaced is None or replaced.revoked:
            raise oauth_error("invalid_grant", "The refresh token was already used.")
        replaced.revoke()
        consumed.append(replaced)
    token = OAuthToken(
        id=UUID(command.token_id),
        team=client.team,
        client_id=client.client_id,
        user=command.user,
        roles=list(command.roles),
        scopes=list(command.scopes),
        chatbots=list(client.chatbots) if client.grant_type == CLIENT_CREDENTIALS else None,
        access_hash=command.access_hash,
        refresh_hash=command.refresh_hash,
        expires_in=client.token_lifetime_s,
    )
    # One write: a code or refresh token yields one token, however many requests race with it.
    app.save(token, *consumed)
    return Outcome({}, token)


def revoke_oauth_token(command: commands.RevokeOAuthToken, app: OcsApplication) -> Outcome:
    token = load(app, command.token_id, OAuthToken)
    if token is None:
        raise detail(404, "no such token")
    token.revoke()
    app.save(token)
    return Outcome({"revoked": True}, token)


def create_chatbot(command: commands.CreateChatbot, app: OcsApplication, check_pipeline) -> Outcome:
    require_team(app, command.team)
    if not command.name.strip() or len(command.name) > 128:
        raise detail(400, "a chatbot name is 1 to 128 characters")
    if command.provider not in PROVIDERS:
        raise detail(400, f"unknown provider {command.provider!r}: use one of {', '.join(PROVIDERS)}")
    chatbot = Chatbot(
        id=uuid4(),
        team=command.team,
        name=command.name,
        description=command.description,
        llm={
            "prompt": command.prompt,
            "provider": command.provider,
            "model": command.model,
            "base_url": command.base_url,
            "api_key": command.llm_api_key,
            "pipeline": checked_pipeline(command.pipeline, check_pipeline),
        },
    )
    app.save(chatbot)
    return Outcome({"id": str(chatbot.id), "name": chatbot.name, "version_number": chatbot.version_number}, chatbot)


def checked_pipeline(pipeline: dict | None, check_pipeline) -> dict | None:
    """`check_pipeline(pipeline)` raises ValueError, saying what is wrong, for one no chatbot may carry."""
    if pipeline is not None:
        try:
            check_pipeline(pipeline)
        except ValueError as exc:
            raise detail(400, f"invalid pipeline: {exc}") from None
    return pipeline


def publish_version(command: commands.PublishVersion, app: OcsApplication, check_pipeline) -> Outcome:
    chatbot = require_chatbot(app, command.chatbot_id)
    if command.pipeline is not None:
        chatbot.change_pipeline(checked_pipeline(command.pipeline, check_pipeline))
    version = chatbot.publish_version(str(uuid4()), command.description, command.make_default)
    app.save(chatbot)
    return Outcome(
        {"version_number": version["version_number"], "is_default_version": version["is_default_version"]}, chatbot
    )


def create_widget_channel(command: commands.CreateWidgetChannel, app: OcsApplication) -> Outcome:
    chatbot = require_chatbot(app, command.chatbot_id)
    if command.auth_level not in AUTH_LEVELS:
        raise detail(400, f"unknown auth level {command.auth_level!r}: use one of {', '.join(AUTH_LEVELS)}")
    if command.credential_mode not in CREDENTIAL_MODES:
        raise detail(400, f"unknown credential mode {command.credential_mode!r}: use {', '.join(CREDENTIAL_MODES)}")
    oauth = command.credential_mode == "oauth"
    if oauth and load(app, oauth_widget_channel_id(chatbot.id), WidgetChannel) is not None:
        raise detail(409, "the chatbot already has an OAuth-mode widget channel")
    embed_key = None if oauth else new_embed_key()
    channel = WidgetChannel(
        id=oauth_widget_channel_id(chatbot.id) if oauth else widget_channel_id(embed_key),
        team=chatbot.team,
        chatbot_id=str(chatbot.id),
        allowed_domains=list(command.allowed_domains),
        # OAuth-mode channels always issue session tokens (SPEC §3.15 step 9).
        auth_level="session_token" if oauth else command.auth_level,
        credential_mode=command.credential_mode,
    )
    app.save(channel)
    return Outcome({"embed_key": embed_key, "channel_id": str(channel.id)}, channel)


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


def set_widget_enabled(command: commands.SetWidgetEnabled, app: OcsApplication) -> Outcome:
    channel = load(app, command.channel_id, WidgetChannel)
    if channel is None:
        raise detail(404, f"widget channel {command.channel_id!r} does not exist")
    if command.enabled:
        channel.enable()
    else:
        channel.disable(command.disabled_message)
    app.save(channel)
    return Outcome({"channel_id": str(channel.id), "enabled": channel.enabled}, channel)


VERSION_NEEDS_LOGIN = "Version number requires authentication"


@dataclass(frozen=True)
class ChatStarted:
    session: ChatSession
    chatbot: Chatbot
    participant: Participant


def start_chat_session(command: commands.StartChatSession, app: OcsApplication) -> ChatStarted:
    chatbot = load(app, command.chatbot_id, Chatbot)
    if chatbot is None:
        raise detail(404, "No Experiment matches the given query.")
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


def record_reply(command: commands.RecordReply, app: OcsApplication) -> ChatSession | None:
    """Record the bot's reply to a task, once: a task already answered is left as it is. What a pipeline
    changed (state, participant data, tags, the session's end) is recorded in the same write."""
    session = load(app, command.session_id, ChatSession)
    if session is None or session.is_answered(command.task_id):
        return None
    trace = list(command.trace) if command.trace is not None else None
    session.record_reply(command.task_id, str(uuid4()), command.text, list(command.tags), trace)
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


def record_reply_failure(command: commands.RecordReplyFailure, app: OcsApplication) -> ChatSession | None:
    session = load(app, command.session_id, ChatSession)
    if session is None or session.is_answered(command.task_id):
        return None
    session.record_failure(command.task_id, command.error, command.user_facing)
    app.save(session)
    return session


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


@dataclass(frozen=True)
class ParticipantUpserted:
    participant: Participant
    chatbots: dict[str, Chatbot]


def upsert_participant(command: commands.UpsertParticipant, app: OcsApplication) -> ParticipantUpserted:
    # Every chatbot is checked before anything is written (SPEC §3.8b quirk Q4, not mirrored).
    chatbots = {entry.chatbot_id: load(app, entry.chatbot_id, Chatbot) for entry in command.entries}
    missing = [cid for cid, chatbot in chatbots.items() if chatbot is None or chatbot.team != command.team]
    if missing:
        raise ApiError(404, {"errors": [{"message": f"Experiment {cid} not found"} for cid in missing]})
    identifier = command.identifier.lower() if command.platform == "commcare_connect" else command.identifier
    participant = participant_on_platform(app, command.team, command.platform, identifier, command.caller)
    if command.name is not None:
        participant.rename(command.name)
    for entry in command.entries:
        if entry.data:
            participant.replace_data(entry.chatbot_id, entry.data)
        elif entry.chatbot_id not in participant.data:
            participant.replace_data(entry.chatbot_id, {})
        for schedule in entry.schedules:
            if schedule["delete"]:
                participant.cancel_schedule(entry.chatbot_id, schedule["id"], command.caller)
            else:
                schedule_id = schedule.get("id") or derived_schedule_id(
                    schedule["name"], entry.chatbot_id, participant.id
                )
                participant.set_schedule(
                    entry.chatbot_id, schedule_id, schedule["name"], schedule["prompt"], schedule["date"]
                )
    app.save(participant)
    all_chatbots = {cid: chatbots.get(cid) or load(app, cid, Chatbot) for cid in participant.data}
    return ParticipantUpserted(participant, all_chatbots)


NO_CHATBOT = "No Experiment matches the given query."


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


def start_completion(command: commands.StartCompletion, app: OcsApplication) -> Exchange:
    chatbot = conversing_chatbot(app, command.team, command.chatbot_id, command.version_number)
    identifier = command.participant or command.caller
    if not identifier:
        raise field_errors({"participant": "This field is required."})
    participant = participant_on_platform(app, command.team, "api", identifier, command.caller)
    session = open_session(chatbot, participant, api_channel_id(command.team), None, "setup", {}, True)
    if command.history:
        session.append_messages([{**message, "id": str(uuid4())} for message in command.history])
    return submit_in_request(app, session, command.text, command.version_number, participant)


def submit_in_request(app, session: ChatSession, text: str, version_number: int | None, *others) -> Exchange:
    task_id = str(uuid4())
    message = session.submit_user_message(
        task_id, str(uuid4()), text, [], version_number=version_number, answered_in_request=True
    )
    app.save(*others, session)
    return Exchange(session, task_id, message, version_number)


RESET = "/reset"
NOT_ENDED = ("setup", "pending", "active")


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
    return submit_in_request(app, session, command.text, command.version_number, participant)


def create_messaging_channel(command: commands.CreateMessagingChannel, app: OcsApplication) -> Outcome:
    chatbot = require_chatbot(app, command.chatbot_id)
    if command.platform in NOT_MESSAGING:
        raise detail(400, f"{command.platform!r} is not a messaging platform")
    channel_id = messaging_channel_id(str(chatbot.id), command.platform)
    if load(app, channel_id, MessagingChannel) is not None:
        raise detail(409, f"the chatbot already has a {command.platform} channel")
    channel = MessagingChannel(
        id=channel_id,
        team=chatbot.team,
        chatbot_id=str(chatbot.id),
        platform=command.platform,
        webhook_url=command.webhook_url,
    )
    app.save(channel)
    return Outcome({"channel_id": str(channel.id)}, channel)


@dataclass(frozen=True)
class BotMessageTriggered:
    session: ChatSession
    team: Team


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
    return BotMessageTriggered(session, require_team(app, command.team))


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


HANDLERS = {
    commands.CreateTeam: create_team,
    commands.IssueApiKey: issue_api_key,
    commands.RevokeApiKey: revoke_api_key,
    commands.RegisterOAuthClient: register_oauth_client,
    commands.IssueAuthorizationCode: issue_authorization_code,
    commands.IssueOAuthToken: issue_oauth_token,
    commands.RevokeOAuthToken: revoke_oauth_token,
    commands.CreateChatbot: create_chatbot,
    commands.PublishVersion: publish_version,
    commands.CreateWidgetChannel: create_widget_channel,
    commands.CreateSession: create_session,
    commands.SetWidgetEnabled: set_widget_enabled,
    commands.StartChatSession: start_chat_session,
    commands.UploadChatFiles: upload_chat_files,
    commands.SubmitChatMessage: submit_chat_message,
    commands.RecordReply: record_reply,
    commands.RecordReplyFailure: record_reply_failure,
    commands.EndSession: end_session,
    commands.TagSession: tag_session,
    commands.ReplaceSessionState: replace_session_state,
    commands.UpsertParticipant: upsert_participant,
    commands.StartCompletion: start_completion,
    commands.SendApiMessage: send_api_message,
    commands.CreateMessagingChannel: create_messaging_channel,
    commands.TriggerBotMessage: trigger_bot_message,
    commands.RecordBotMessage: record_bot_message,
    commands.RecordDelivery: record_delivery,
}
