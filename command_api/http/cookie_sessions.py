"""Signing a web page in and out (beyond OCS): `POST /api/auth/session/` with a team credential sets the session and
CSRF cookies; `DELETE` ends the session the cookie names and clears them."""

import uuid

from flask import Blueprint, Response, g

from command_api import commands
from command_api.bus import CommandBus
from command_api.read_your_writes import ReadModelWaiter
from infra.cookie_sessions import CookiePolicy, clear_session_cookies, set_session_cookies
from infra.permissions import SIGN_IN, guarded
from infra.secrets import hash_secret, new_id_secret
from infra.web import json_response
from schemas import representations
from schemas.instants import utc_iso
from schemas.read_models import COOKIE_SESSIONS


def cookie_sessions_blueprint(bus: CommandBus, waiter: ReadModelWaiter, cookies: CookiePolicy) -> Blueprint:
    api = Blueprint("cookie_sessions", __name__)

    @api.post("/auth/session/")
    @guarded(SIGN_IN)
    def auth_session_create():
        caller = g.caller
        session_id = uuid.uuid4().hex
        cookie, secret = new_id_secret(session_id)
        started = bus.handle(
            commands.StartCookieSession(
                session_id, caller.team, caller.credential, hash_secret(secret), cookies.lifetime_s
            )
        ).aggregate
        # The next request may reach the query side, which authenticates from the read model.
        waiter.wait(COOKIE_SESSIONS, str(started.id), started.version)
        csrf_token = cookies.csrf_token(session_id)
        body = representations.cookie_session(
            caller.team, caller.user, caller.read_only, utc_iso(started.expires_at), csrf_token
        )
        response = json_response(body, 201)
        set_session_cookies(response, cookies, cookie, csrf_token)
        return response

    @api.delete("/auth/session/")
    @guarded(SIGN_IN)
    def auth_session_destroy():
        if g.caller.cookie_session:
            ended = bus.handle(commands.EndCookieSession(g.caller.cookie_session)).aggregate
            waiter.wait(COOKIE_SESSIONS, str(ended.id), ended.version)
        response = Response(status=204)
        clear_session_cookies(response, cookies)
        return response

    return api
