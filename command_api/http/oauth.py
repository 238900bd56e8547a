"""The OAuth2 authorization server's endpoints (SPEC §1.1, §1.4): `/o/authorize/`, `/o/token/`, `/o/revoke_token/`
and `/o/introspect/`, served by `oauth_server.OcsAuthorizationServer`; parameters outside RFC 6749's character
sets are refused before authlib sees them."""

import base64
import re

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    scope_to_list,
)
from flask import Blueprint, request

from command_api.bus import CommandBus
from command_api.http.oauth_server import READ_SCOPES, Introspection, OcsAuthorizationServer, ResourceOwner, Revocation
from command_api.read_your_writes import ReadModelWaiter
from infra.authentication import CredentialStore, authenticate
from infra.permissions import admits_own_callers
from infra.rate_limits import client_address, throttle
from schemas import representations
from schemas.errors import detail, oauth_error

PRINTABLE = re.compile(r"[\x20-\x7e]*")
NAME = re.compile(r"[A-Za-z0-9_.:/ -]*")
NAMED_PARAMETERS = ("response_type", "grant_type", "token_type_hint", "code_challenge_method")
PARAMETERS = (
    *NAMED_PARAMETERS,
    *("client_id", "client_secret", "redirect_uri", "scope", "state", "code", "code_challenge", "code_verifier"),
    *("refresh_token", "token", "allow"),
)


def refuse_malformed_parameters() -> None:
    """Refuse, as the RFCs do, what authlib would otherwise fail on: client credentials that are not UTF-8,
    and parameters outside their character sets (authlib echoes some of them into error descriptions)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            base64.b64decode(credentials, validate=True).decode()
        except ValueError:  # binascii.Error and UnicodeDecodeError are both ValueErrors
            raise oauth_error("invalid_client", "Client credentials are not base64 of UTF-8 text.", 401) from None
    for name in PARAMETERS:
        for value in request.values.getlist(name):
            if not (NAME if name in NAMED_PARAMETERS else PRINTABLE).fullmatch(value):
                raise oauth_error("invalid_request", f"Invalid characters in '{name}'.")


def oauth_blueprint(bus: CommandBus, waiter: ReadModelWaiter, credentials: CredentialStore) -> Blueprint:
    server = OcsAuthorizationServer(bus, waiter)
    oauth = Blueprint("oauth", __name__)
    oauth.before_request(refuse_malformed_parameters)

    def resource_owner():
        """The consenting user: an API key's holder (an OAuth token cannot hand out other tokens)."""
        caller = authenticate(credentials)
        if caller.scopes is not None:
            raise detail(403, "Consent needs an API key.")
        return caller

    @oauth.get("/authorize/", endpoint="oauth_authorize_describe")
    @oauth.post("/authorize/", endpoint="oauth_authorize")
    @admits_own_callers
    def authorize():
        caller = resource_owner()
        try:
            grant = server.get_consent_grant(end_user=caller)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        client = grant.request.client.client
        scopes = scope_to_list(grant.request.scope) or []
        if request.method == "GET":
            redirect_uri = grant.request.payload.redirect_uri or client.redirect_uris[0]
            return representations.consent_request(
                client.client_id, client.name, client.team, caller.user, scopes, redirect_uri
            )
        consents = (
            request.form.get("allow") == "yes"
            and caller.team == client.team
            and (not caller.read_only or set(scopes) <= READ_SCOPES)
        )
        owner = ResourceOwner(caller.user, caller.roles) if consents else None
        return server.create_authorization_response(grant_user=owner, grant=grant)

    @oauth.post("/token/", endpoint="oauth_token")
    @admits_own_callers
    def issue_token():
        response = server.create_token_response()
        if response.status_code == 401:  # a failed client authentication counts like a bad API key
            throttle("credentials", client_address())
        return response

    @oauth.post("/revoke_token/", endpoint="oauth_revoke_token")
    @admits_own_callers
    def revoke_token():
        return server.create_endpoint_response(Revocation.ENDPOINT_NAME)

    @oauth.post("/introspect/", endpoint="oauth_introspect")
    @admits_own_callers
    def introspect_token():
        return server.create_endpoint_response(Introspection.ENDPOINT_NAME)

    return oauth
