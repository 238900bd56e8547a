"""API v2's reads (OCS's `ocs-api-v2.yml`), served under `/api/v2/` only: the team's chatbots (v1's experiments in
v2's shape) and each one's whole configuration, the pipeline node types and the values their params take, whom the
credential acts as, and the team's usage."""

from datetime import datetime, timezone

from flask import Blueprint, g, request
from pymongo.database import Database

from infra.permissions import CHATBOTS, IDENTITY, USAGE, guarded
from infra.web import base_url, json_response, revalidated, validated
from query_api.http.pages import page_request
from query_api.queries.chatbot_inspect import inspect_chatbot
from query_api.queries.experiments import list_experiments, retrieve_experiment
from query_api.queries.identity import me as identity
from query_api.queries.pipeline_options import node_type_options, options_for_team
from query_api.queries.usage import usage_report
from schemas import representations
from schemas.pipeline_nodes import NODE_TYPES, catalogue_entry, node_type_named
from schemas.requests import UsageRequest

USAGE_REQUEST = UsageRequest()
# Repeatable query parameters: each is a list, the others their one value.
REPEATABLE = ("metric",)


def query_parameters() -> dict:
    return {key: request.args.getlist(key) if key in REPEATABLE else value for key, value in request.args.items()}


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

    @api.get("/chatbots/<chatbot_id>/inspect/")
    @guarded(CHATBOTS)
    def chatbot_inspect(chatbot_id):
        return json_response(inspect_chatbot(db, g.caller.team, chatbot_id, request.args.get("version")))

    @api.get("/pipeline/nodes/")
    @guarded(CHATBOTS)
    def pipeline_node_list():
        return revalidated(json_response([catalogue_entry(node_type) for node_type in NODE_TYPES.values()]))

    @api.get("/pipeline/nodes/<node_type>/")
    @guarded(CHATBOTS)
    def pipeline_node_retrieve(node_type):
        return revalidated(json_response(catalogue_entry(node_type_named(node_type))))

    @api.get("/pipeline/options/")
    @guarded(CHATBOTS)
    def pipeline_options():
        return json_response(options_for_team(db, g.caller.team))

    @api.get("/pipeline/options/<node_type>/")
    @guarded(CHATBOTS)
    def pipeline_node_options(node_type):
        return json_response(node_type_options(db, g.caller.team, node_type))

    @api.get("/me/")
    @guarded(IDENTITY)
    def me():
        return json_response(identity(db, g.caller.team, g.caller.user))

    @api.get("/usage/")
    @guarded(USAGE)
    def usage():
        params = validated(USAGE_REQUEST, query_parameters())
        return json_response(usage_report(db, g.caller.team, params, datetime.now(timezone.utc), page_request()))

    return api
