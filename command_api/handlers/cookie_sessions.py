"""Browsers' sign-ins: a session cookie opened with a team credential, and signing out."""

from uuid import UUID

from command_api import commands
from command_api.domain.cookie_session import CookieSession
from command_api.handlers.teams_and_keys import Outcome, require_team
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import detail


def start_cookie_session(command: commands.StartCookieSession, app: OcsApplication) -> Outcome:
    require_team(app, command.team)
    session = CookieSession(
        id=UUID(command.session_id),
        team=command.team,
        credential=command.credential,
        secret_hash=command.secret_hash,
        lifetime_s=command.lifetime_s,
    )
    app.save(session)
    return Outcome({}, session)


def end_cookie_session(command: commands.EndCookieSession, app: OcsApplication) -> Outcome:
    session = load(app, UUID(command.session_id), CookieSession)
    if session is None:
        raise detail(404, "Not found.")
    session.end()
    app.save(session)
    return Outcome({}, session)
