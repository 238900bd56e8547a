"""The command API's Flask app: parse and validate, run one command, wait for the read model, answer."""

from flask import Blueprint, Flask, Response, g, request

from command_api import commands, documents
from command_api.bus import CommandBus
from command_api.chat import chat_blueprint
from command_api.conversations import conversations_blueprints
from command_api.oauth_server import oauth_blueprint
from command_api.ports import ReplySource
from command_api.read_your_writes import ReadModelWaiter
from infra.authentication import CredentialStore, require_team_credential
from infra.session_tokens import SessionTokens
from infra.web import base_url, install_error_handlers, json_body, json_response, validated
from schemas import representations
from schemas.read_models import PARTICIPANTS, SESSIONS
from schemas.requests import (
    ParticipantUpsertRequest,
    SessionCreateRequest,
    TriggerBotRequest,
    replacement_state,
    tag_names,
)


def create_app(
    bus: CommandBus,
    waiter: ReadModelWaiter,
    credentials: CredentialStore,
    tokens: SessionTokens,
    replies: ReplySource,
) -> Flask:
    app = Flask("command_api")
    install_error_handlers(app)
    require_team_credential(app, credentials)
    api = Blueprint("api", __name__)

    def settled(session) -> None:
        """Answer only once the read model shows the change (read-your-writes)."""
        waiter.wait(SESSIONS, str(session.id), session.version)

    @api.post("/sessions/")
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
    def session_end(session_id):
        settled(bus.handle(commands.EndSession(g.caller.team, session_id)))
        return Response(status=200)

    @api.route("/sessions/<session_id>/tags/", methods=["POST", "DELETE"])
    def session_tags(session_id):
        tags = tuple(tag_names(json_body()))
        session = bus.handle(commands.TagSession(g.caller.team, session_id, tags, remove=request.method == "DELETE"))
        settled(session)
        return json_response({"tags": session.tags})

    @api.patch("/sessions/<session_id>/update_state/")
    def session_update_state(session_id):
        state = replacement_state(json_body())
        session = bus.handle(commands.ReplaceSessionState(g.caller.team, session_id, state))
        settled(session)
        return json_response({"success": True, "state": session.state})

    @api.post("/participants")
    @api.post("/participants/", endpoint="update_participant_data_alias")
    def update_participant_data():
        body = validated(ParticipantUpsertRequest(), json_body())
        upserted = bus.handle(
            commands.UpsertParticipant(
                team=g.caller.team,
                caller=g.caller.user,
                identifier=body["identifier"],
                platform=body["platform"],
                name=body["name"],
                entries=tuple(
                    commands.ParticipantEntry(entry["experiment"], entry["data"], tuple(entry["schedules"]))
                    for entry in body["data"]
                ),
            )
        )
        participant = upserted.participant
        waiter.wait(PARTICIPANTS, str(participant.id), participant.version)
        chatbots = {cid: documents.chatbot_document(chatbot) for cid, chatbot in upserted.chatbots.items() if chatbot}
        return json_response(representations.participant_detail(documents.participant_document(participant), chatbots))

    @api.post("/trigger_bot")
    def trigger_bot_message():
        body = validated(TriggerBotRequest(), json_body())
        g.caller.require_chatbot(body["experiment"])
        triggered = bus.handle(
            commands.TriggerBotMessage(
                team=g.caller.team,
                identifier=body["identifier"],
                platform=body["platform"],
                chatbot_id=body["experiment"],
                prompt_text=body["prompt_text"],
                message_text=body["message_text"],
                start_new_session=body["start_new_session"],
                session_data=body["session_data"],
                participant_data=body["participant_data"],
            )
        )
        session = triggered.session
        settled(session)
        return json_response(
            {
                "session_id": str(session.id),
                "url": representations.session_url(base_url(), str(session.id)),
                "team": {"name": triggered.team.name, "slug": triggered.team.team},
                "channel": session.platform,
            }
        )

    chat = chat_blueprint(bus, waiter, tokens, credentials)
    openai_api, channels = conversations_blueprints(bus, waiter, replies)
    # Every /api/ path is also served under /api/v1/ (SPEC §0.2); /channels/ paths are not.
    for prefix, suffix in (("/api", ""), ("/api/v1", "_v1")):
        for blueprint in (api, chat, openai_api):
            app.register_blueprint(blueprint, url_prefix=prefix, name=f"{blueprint.name}{suffix}")
    app.register_blueprint(channels, url_prefix="/channels")
    app.register_blueprint(oauth_blueprint(bus, waiter, credentials), url_prefix="/o")
    return app
