"""A chatbot's channels: widget channels (embed keys, enabling) and messaging channels (webhooks)."""

from command_api import commands
from command_api.domain.messaging_channel import NOT_MESSAGING, MessagingChannel, messaging_channel_id
from command_api.domain.subscription import webhook_url_problem
from command_api.domain.widget_channel import AUTH_LEVELS, CREDENTIAL_MODES, WidgetChannel, oauth_widget_channel_id
from command_api.handlers.chatbots import require_chatbot
from command_api.handlers.teams_and_keys import Outcome
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.secrets import new_embed_key
from schemas.errors import detail
from schemas.ids import widget_channel_id


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


def create_messaging_channel(command: commands.CreateMessagingChannel, app: OcsApplication) -> Outcome:
    chatbot = require_chatbot(app, command.chatbot_id)
    if command.platform in NOT_MESSAGING:
        raise detail(400, f"{command.platform!r} is not a messaging platform")
    if command.webhook_url is not None and (problem := webhook_url_problem(command.webhook_url)):
        raise detail(400, problem)
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
