"""The query API's Flask app: the team API's GET endpoints, each parsing its request for one query of
`query_api.queries`, and the chat polls beside them."""

import mimetypes
from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import quote

from flask import Blueprint, Flask, Response, g, request
from pymongo.database import Database

from infra.authentication import CredentialStore, require_team_credential
from infra.cookie_sessions import CookiePolicy
from infra.file_store import FileStore
from infra.permissions import CHATBOTS, FILES, PARTICIPANTS, SESSIONS, SIGN_IN, guarded
from infra.session_tokens import SessionTokens
from infra.web import base_url, install_error_handlers, json_response, mount_api, mount_api_v2
from query_api.http.chat import chat_blueprint
from query_api.http.events import events_blueprint
from query_api.http.pages import page_request
from query_api.http.responses import responses_blueprint
from query_api.http.v2 import v2_blueprint
from query_api.queries import participants
from query_api.queries.change_feed import ChangeFeed
from query_api.queries.credential_lookup import ReadModelCredentials
from query_api.queries.experiments import list_experiments, retrieve_experiment
from query_api.queries.files import team_file
from query_api.queries.participants import ParticipantFilter
from query_api.queries.reply_deltas import DeltaFeed
from query_api.queries.sessions import SessionFilter, list_sessions, retrieve_session
from schemas import representations
from schemas.errors import detail, field_errors
from schemas.ids import canonical_uuid
from schemas.instants import utc_iso


def comma_separated(name: str) -> tuple[str, ...]:
    """Each value once, in order (a value given twice filters as once)."""
    return tuple(dict.fromkeys(part.strip() for part in request.args.get(name, "").split(",") if part.strip()))


def session_filter() -> SessionFilter:
    experiment = request.args.get("experiment", "").strip()
    experiment_id = canonical_uuid(experiment) if experiment else None
    if experiment and experiment_id is None:
        raise field_errors({"experiment": [f'"{experiment}" is not a valid UUID.']})
    return SessionFilter(experiment_id, comma_separated("tags"), comma_separated("versions"))


def participant_filter() -> ParticipantFilter:
    """`chatbot` (or its deprecated alias `experiment`) errs with a plain string (SPEC §3.8a)."""
    chatbot_id = None
    for name in ("chatbot", "experiment"):
        value = request.args.get(name, "").strip()
        if value:
            chatbot_id = canonical_uuid(value)
            if chatbot_id is None:
                raise field_errors({name: "Must be a valid UUID."})
            break
    return ParticipantFilter(request.args.get("identifier") or None, request.args.get("platform") or None, chatbot_id)


def team_blueprint(db: Database, files: FileStore, credentials: CredentialStore, cookies: CookiePolicy) -> Blueprint:
    api = Blueprint("api", __name__)

    @api.get("/auth/session/")
    @guarded(SIGN_IN)
    def auth_session_retrieve():
        """A signed-in page's session, and its CSRF token (a page on another origin cannot read the cookie)."""
        caller = g.caller
        session = credentials.cookie_session(caller.cookie_session) if caller.cookie_session else None
        if session is None:
            raise detail(404, "Not found.")
        expires_at = utc_iso(datetime.fromtimestamp(session.expires_at, timezone.utc))
        csrf_token = cookies.csrf_token(caller.cookie_session)
        return json_response(
            representations.cookie_session(caller.team, caller.user, caller.read_only, expires_at, csrf_token)
        )

    @api.get("/experiments/")
    @guarded(CHATBOTS)
    def experiment_list():
        return json_response(
            list_experiments(db, g.caller.team, page_request(), base_url(), representations.experiment)
        )

    @api.get("/experiments/<chatbot_id>/")
    @guarded(CHATBOTS)
    def experiment_retrieve(chatbot_id):
        return json_response(retrieve_experiment(db, g.caller.team, chatbot_id, base_url(), representations.experiment))

    @api.get("/sessions/")
    @guarded(SESSIONS)
    def session_list():
        ascending = request.args.get("ordering") == "created_at"
        return json_response(list_sessions(db, g.caller.team, session_filter(), ascending, page_request(), base_url()))

    @api.get("/sessions/<session_id>/")
    @guarded(SESSIONS)
    def session_retrieve(session_id):
        return json_response(retrieve_session(db, g.caller.team, session_id, base_url()))

    @api.get("/participants")
    @api.get("/participants/", endpoint="list_participants_alias")
    @guarded(PARTICIPANTS)
    def list_participants():
        return json_response(participants.list_participants(db, g.caller.team, participant_filter(), page_request()))

    @api.get("/files/<int:file_id>/content")
    @guarded(FILES)
    def file_content(file_id):
        doc = team_file(db, g.caller.team, file_id)
        content = files.read(file_id)
        if content is None:
            raise detail(404, "Not found.")
        return Response(
            content,
            mimetype=mimetypes.guess_type(doc["name"])[0] or doc["content_type"] or "application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{quote(doc["name"])}"'},
        )

    return api


def create_app(
    db: Database,
    tokens: SessionTokens,
    files: FileStore,
    feed: ChangeFeed,
    event_feed: ChangeFeed,
    deltas: DeltaFeed,
    cookies: CookiePolicy,
    allowed_anywhere: Callable[[str], bool],
) -> Flask:
    """`feed`: new messages, for the chat streams; `event_feed`: new events, for the teams' event streams;
    `deltas`: replies while they are generated, for the chat streams;
    `allowed_anywhere`: whether some team allows a page's origin (`infra/cors.py`). Like the command API's, building
    the app only declares its routes."""
    app = Flask("query_api")
    install_error_handlers(app)
    credentials = ReadModelCredentials(db)
    require_team_credential(app, credentials, cookies, allowed_anywhere)
    mount_api(
        app,
        team_blueprint(db, files, credentials, cookies),
        chat_blueprint(db, tokens, feed, deltas),
        events_blueprint(db, event_feed),
        responses_blueprint(db),
    )
    mount_api_v2(app, v2_blueprint(db))
    return app
