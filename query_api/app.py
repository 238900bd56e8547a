"""The query API's Flask app: thin views over `query_api.views`."""

import mimetypes
from urllib.parse import quote

from flask import Blueprint, Flask, Response, g
from pymongo.database import Database

from infra.authentication import require_team_credential
from infra.file_store import FileStore
from infra.session_tokens import SessionTokens
from infra.web import base_url, install_error_handlers, json_response
from query_api import views
from query_api.chat import chat_blueprint
from query_api.credentials import ReadModelCredentials
from query_api.message_feed import MessageFeed
from schemas.errors import detail


def create_app(db: Database, tokens: SessionTokens, files: FileStore, feed: MessageFeed) -> Flask:
    app = Flask("query_api")
    install_error_handlers(app)
    require_team_credential(app, ReadModelCredentials(db))
    api = Blueprint("api", __name__)

    @api.get("/experiments/")
    def experiment_list():
        return json_response(views.list_experiments(db, g.caller.team, base_url()))

    @api.get("/experiments/<chatbot_id>/")
    def experiment_retrieve(chatbot_id):
        return json_response(views.retrieve_experiment(db, g.caller.team, chatbot_id, base_url()))

    @api.get("/sessions/")
    def session_list():
        return json_response(views.list_sessions(db, g.caller.team, base_url()))

    @api.get("/sessions/<session_id>/")
    def session_retrieve(session_id):
        return json_response(views.retrieve_session(db, g.caller.team, session_id, base_url()))

    @api.get("/participants")
    @api.get("/participants/", endpoint="list_participants_alias")
    def list_participants():
        return json_response(views.list_participants(db, g.caller.team))

    @api.get("/files/<int:file_id>/content")
    def file_content(file_id):
        doc = views.team_file(db, g.caller.team, file_id)
        content = files.read(file_id)
        if content is None:
            raise detail(404, "Not found.")
        return Response(
            content,
            mimetype=mimetypes.guess_type(doc["name"])[0] or doc["content_type"] or "application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{quote(doc["name"])}"'},
        )

    chat = chat_blueprint(db, tokens, feed)
    # Every /api/ path is also served under /api/v1/ (SPEC §0.2).
    for prefix, suffix in (("/api", ""), ("/api/v1", "_v1")):
        app.register_blueprint(api, url_prefix=prefix, name=f"api{suffix}")
        app.register_blueprint(chat, url_prefix=prefix, name=f"chat{suffix}")
    return app
