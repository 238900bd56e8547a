"""The team API's participant upsert (SPEC §3.8b): a participant's name, per-chatbot data and schedules."""

from flask import Blueprint, g

from command_api import commands
from command_api.bus import CommandBus
from command_api.http import documents
from command_api.read_your_writes import ReadModelWaiter
from infra.permissions import PARTICIPANTS as PARTICIPANTS_GUARD
from infra.permissions import guarded
from infra.web import json_body, json_response, validated
from schemas import representations
from schemas.read_models import PARTICIPANTS
from schemas.requests import ParticipantUpsertRequest


def participants_blueprint(bus: CommandBus, waiter: ReadModelWaiter) -> Blueprint:
    api = Blueprint("participants", __name__)

    @api.post("/participants")
    @api.post("/participants/", endpoint="update_participant_data_alias")
    @guarded(PARTICIPANTS_GUARD)
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

    return api
