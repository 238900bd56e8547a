"""The command API's Flask app: its blueprints, mounted where they are served, behind the team credential check."""

from collections.abc import Callable

from flask import Flask

from command_api.bus import CommandBus
from command_api.http.admission_lookup import WriteModelChatAccess
from command_api.http.bot_messages import bot_messages_blueprints
from command_api.http.chat import chat_blueprint
from command_api.http.conversations import conversations_blueprints
from command_api.http.cookie_sessions import cookie_sessions_blueprint
from command_api.http.oauth import oauth_blueprint
from command_api.http.participants import participants_blueprint
from command_api.http.responses import responses_blueprint
from command_api.http.sessions import sessions_blueprint
from command_api.ports import ReplySource
from command_api.read_your_writes import ReadModelWaiter
from infra.authentication import CredentialStore, require_team_credential
from infra.cookie_sessions import CookiePolicy
from infra.session_tokens import SessionTokens
from infra.web import install_error_handlers, mount_api, mount_api_v2


def create_app(
    bus: CommandBus,
    waiter: ReadModelWaiter,
    credentials: CredentialStore,
    chat_access: WriteModelChatAccess,
    tokens: SessionTokens,
    replies: ReplySource,
    cookies: CookiePolicy,
    allowed_anywhere: Callable[[str], bool],
) -> Flask:
    """Building the app only declares its routes: no view touches a dependency before a request, so an app built
    without them lists its routes (`infra/wiring/bootstrap.api_routes`). `allowed_anywhere`: whether some team
    allows a page's origin (`infra/cors.py`)."""
    app = Flask("command_api")
    install_error_handlers(app)
    require_team_credential(app, credentials, cookies, allowed_anywhere)
    openai_api, channels = conversations_blueprints(bus, waiter, replies)
    bot_messages, bot_messages_v2 = bot_messages_blueprints(bus, waiter)
    mount_api(
        app,
        sessions_blueprint(bus, waiter),
        participants_blueprint(bus, waiter),
        bot_messages,
        chat_blueprint(bus, waiter, tokens, credentials, chat_access),
        cookie_sessions_blueprint(bus, waiter, cookies),
        openai_api,
        responses_blueprint(bus, waiter, replies),
    )
    mount_api_v2(app, bot_messages_v2)
    app.register_blueprint(channels, url_prefix="/channels")
    app.register_blueprint(oauth_blueprint(bus, waiter, credentials), url_prefix="/o")
    return app
