"""`POST /api/trigger_bot` (SPEC §3.9) and API v2's `POST /api/v2/trigger_bot/`: the bot starts a conversation on a
messaging channel. Both take the same request and run the same command; they differ only in the answer's shape."""

from collections.abc import Callable

from flask import Blueprint, g

from command_api import commands
from command_api.bus import CommandBus
from command_api.http import documents
from command_api.read_your_writes import ReadModelWaiter
from infra.permissions import BOT_MESSAGES, guarded
from infra.web import base_url, json_body, json_response, validated
from schemas import representations
from schemas.read_models import PARTICIPANTS, SESSIONS
from schemas.requests import TriggerBotRequest


def bot_messages_blueprints(bus: CommandBus, waiter: ReadModelWaiter) -> tuple[Blueprint, Blueprint]:
    """v1's blueprint (mounted under `/api` and `/api/v1`) and v2's (under `/api/v2`)."""

    def triggered(render: Callable[[str, dict, str | None, str], dict]):
        """Trigger the bot message the request asks for, once the read model shows its session; answered by
        `render(session id, team document, session platform, base URL)`."""
        body = validated(TriggerBotRequest(), json_body())
        g.caller.require_chatbot(body["experiment"])
        result = bus.handle(
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
        session, participant = result.session, result.participant
        # A GET right after sees all of it: the session, the one it ended, and the participant's merged data.
        waiter.wait_all(SESSIONS, {str(each.id): each.version for each in (*result.ended, session)})
        waiter.wait(PARTICIPANTS, str(participant.id), participant.version)
        team = documents.team_document(result.team)
        return json_response(render(str(session.id), team, session.platform, base_url()))

    v1 = Blueprint("bot_messages", __name__)

    @v1.post("/trigger_bot")
    @guarded(BOT_MESSAGES)
    def trigger_bot_message():
        return triggered(representations.bot_triggered)

    v2 = Blueprint("bot_messages_v2", __name__)

    # v2's operation id is v1's; each version's OpenAPI document names its own (`schemas/openapi/document.py`).
    @v2.post("/trigger_bot/", endpoint="trigger_bot_message")
    @guarded(BOT_MESSAGES)
    def trigger_bot_message_v2():
        return triggered(representations.bot_triggered_v2)

    return v1, v2
