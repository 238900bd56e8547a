"""`POST /api/trigger_bot` (SPEC §3.9): the bot starts a conversation on a messaging channel."""

from flask import Blueprint, g

from command_api import commands
from command_api.bus import CommandBus
from command_api.http import documents
from command_api.read_your_writes import ReadModelWaiter
from infra.permissions import BOT_MESSAGES, guarded
from infra.web import base_url, json_body, json_response, validated
from schemas import representations
from schemas.read_models import SESSIONS
from schemas.requests import TriggerBotRequest


def bot_messages_blueprint(bus: CommandBus, waiter: ReadModelWaiter) -> Blueprint:
    api = Blueprint("bot_messages", __name__)

    @api.post("/trigger_bot")
    @guarded(BOT_MESSAGES)
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
        waiter.wait(SESSIONS, str(session.id), session.version)
        team = documents.team_document(triggered.team)
        return json_response(representations.bot_triggered(str(session.id), team, session.platform, base_url()))

    return api
