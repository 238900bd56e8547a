"""API v2's reads (OCS's `ocs-api-v2.yml`), served under `/api/v2/` only: the team's chatbots (v1's experiments in
v2's shape) and whom the credential acts as."""

from flask import Blueprint, g
from pymongo.database import Database

from infra.permissions import CHATBOTS, IDENTITY, guarded
from infra.web import base_url, json_response
from query_api.http.pages import page_request
from query_api.queries.experiments import list_experiments, retrieve_experiment
from query_api.queries.identity import me as identity
from schemas import representations


def v2_blueprint(db: Database) -> Blueprint:
    api = Blueprint("v2", __name__)

    @api.get("/chatbots/")
    @guarded(CHATBOTS)
    def chatbot_list():
        return json_response(list_experiments(db, g.caller.team, page_request(), base_url(), representations.chatbot))

    @api.get("/chatbots/<chatbot_id>/")
    @guarded(CHATBOTS)
    def chatbot_retrieve(chatbot_id):
        return json_response(retrieve_experiment(db, g.caller.team, chatbot_id, base_url(), representations.chatbot))

    @api.get("/me/")
    @guarded(IDENTITY)
    def me():
        return json_response(identity(db, g.caller.team, g.caller.user))

    return api
