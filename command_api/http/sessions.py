"""The team API's session writes (SPEC §3.3-3.7): create, end, tag, replace the state."""

from flask import Blueprint, Response, g, request

from command_api import commands
from command_api.bus import CommandBus
from command_api.http import documents
from command_api.read_your_writes import ReadModelWaiter
from infra.permissions import SESSIONS as SESSIONS_GUARD
from infra.permissions import guarded
from infra.web import base_url, json_body, json_response, validated
from schemas import representations
from schemas.read_models import SESSIONS
from schemas.requests import SessionCreateRequest, replacement_state, tag_names


def sessions_blueprint(bus: CommandBus, waiter: ReadModelWaiter) -> Blueprint:
    api = Blueprint("sessions", __name__)

    def settled(session) -> None:
        """Answer only once the read model shows the change (read-your-writes)."""
        waiter.wait(SESSIONS, str(session.id), session.version)

    @api.post("/sessions/")
    @guarded(SESSIONS_GUARD)
    def session_create():
        body = validated(SessionCreateRequest(), json_body())
        created = bus.handle(
            commands.CreateSession(
                team=g.caller.team,
                caller=g.caller.user,
                experiment=body["experiment"],
                participant=body["participant"],
                messages=tuple(body["messages"]),
                state=body["state"],
                page_context=body["page_context"],
            )
        )
        session = created.session
        settled(session)
        representation = representations.session(
            documents.session_document(session, created.participant.identifier, created.participant.remote_id),
            documents.chatbot_document(created.chatbot),
            documents.team_document(created.team),
            base_url(),
        )
        return json_response(representation, 201, {"Location": representation["url"]})

    @api.post("/sessions/<session_id>/end_experiment_session/")
    @guarded(SESSIONS_GUARD)
    def session_end(session_id):
        settled(bus.handle(commands.EndSession(g.caller.team, session_id)))
        return Response(status=200)

    @api.post("/sessions/<session_id>/tags/", endpoint="session_add_tags")
    @api.delete("/sessions/<session_id>/tags/", endpoint="session_remove_tags")
    @guarded(SESSIONS_GUARD)
    def session_tags(session_id):
        tags = tuple(tag_names(json_body()))
        session = bus.handle(commands.TagSession(g.caller.team, session_id, tags, remove=request.method == "DELETE"))
        settled(session)
        return json_response(representations.session_tags(session.tags))

    @api.patch("/sessions/<session_id>/update_state/")
    @guarded(SESSIONS_GUARD)
    def session_update_state(session_id):
        state = replacement_state(json_body())
        session = bus.handle(commands.ReplaceSessionState(g.caller.team, session_id, state))
        settled(session)
        return json_response(representations.session_state(session.state))

    return api
