"""OAuth clients, authorization codes and tokens (the write side of `/o/`)."""

from urllib.parse import urlparse
from uuid import UUID

from command_api import commands
from command_api.domain.authorization_code import AuthorizationCode
from command_api.domain.oauth_client import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    GRANT_TYPES,
    SCOPES,
    OAuthClient,
    oauth_client_id,
)
from command_api.domain.oauth_token import OAuthToken
from command_api.handlers.chatbots import require_chatbot
from command_api.handlers.teams_and_keys import Outcome, require_team
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.secrets import hash_secret, new_oauth_client
from schemas.errors import detail, oauth_error


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
