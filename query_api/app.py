"""The query API's Flask app: thin views over `query_api.views`."""

from flask import Blueprint, Flask, g
from pymongo.database import Database

from infra.web import base_url, install_error_handlers, json_response, require_team_credential
from query_api import views


def create_app(db: Database) -> Flask:
    app = Flask("query_api")
    install_error_handlers(app)
    require_team_credential(app, lambda prefix: views.stored_key(db, prefix))
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

    # Every /api/ path is also served under /api/v1/ (SPEC §0.2).
    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(api, url_prefix="/api/v1", name="api_v1")
    return app
