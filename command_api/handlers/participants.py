"""Participants' upsert (SPEC §3.8b): names, per-chatbot data and schedules."""

from dataclasses import dataclass

from command_api import commands
from command_api.domain.chatbot import Chatbot
from command_api.domain.participant import Participant, derived_schedule_id
from command_api.handlers.sessions import participant_on_platform
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.errors import ApiError


@dataclass(frozen=True)
class ParticipantUpserted:
    participant: Participant
    chatbots: dict[str, Chatbot]


def upsert_participant(command: commands.UpsertParticipant, app: OcsApplication) -> ParticipantUpserted:
    # Every chatbot is checked before anything is written (SPEC §3.8b quirk Q4, not mirrored).
    chatbots = {entry.chatbot_id: load(app, entry.chatbot_id, Chatbot) for entry in command.entries}
    missing = [cid for cid, chatbot in chatbots.items() if chatbot is None or chatbot.team != command.team]
    if missing:
        raise ApiError(404, {"errors": [{"message": f"Experiment {cid} not found"} for cid in missing]})
    identifier = command.identifier.lower() if command.platform == "commcare_connect" else command.identifier
    participant = participant_on_platform(app, command.team, command.platform, identifier, command.caller)
    if command.name is not None:
        participant.rename(command.name)
    for entry in command.entries:
        if entry.data:
            participant.replace_data(entry.chatbot_id, entry.data)
        elif entry.chatbot_id not in participant.data:
            participant.replace_data(entry.chatbot_id, {})
        for schedule in entry.schedules:
            if schedule["delete"]:
                participant.cancel_schedule(entry.chatbot_id, schedule["id"], command.caller)
            else:
                schedule_id = schedule.get("id") or derived_schedule_id(
                    schedule["name"], entry.chatbot_id, participant.id
                )
                participant.set_schedule(
                    entry.chatbot_id, schedule_id, schedule["name"], schedule["prompt"], schedule["date"]
                )
    app.save(participant)
    all_chatbots = {cid: chatbots.get(cid) or load(app, cid, Chatbot) for cid in participant.data}
    return ParticipantUpserted(participant, all_chatbots)
