"""Participants and their per-chatbot data."""

from projectors.projections.writes import Write, change, create, sort_key
from schemas.read_models import (
    PARTICIPANTS,
    stored_json,
)


def participant_created(envelope: dict, data: dict) -> list[Write]:
    created_at = envelope["occurred_at"]
    return [
        create(
            PARTICIPANTS,
            envelope,
            {
                "identifier": data["identifier"],
                "platform": data["platform"],
                "name": data["name"],
                "remote_id": data["remote_id"],
                "data": {},
                "created_at": created_at,
                "sort_key": sort_key(created_at, envelope["aggregate_id"]),
            },
        )
    ]


def participant_data_changed(envelope: dict, data: dict) -> list[Write]:
    return [change(PARTICIPANTS, envelope, {"$set": {f"data.{data['chatbot_id']}": stored_json(data["data"])}})]


def participant_renamed(envelope: dict, data: dict) -> list[Write]:
    return [change(PARTICIPANTS, envelope, {"$set": {"name": data["name"]}})]


def participant_version_moves(envelope: dict, data: dict) -> list[Write]:
    """Events no read model shows (schedules, sessions joined); the participant's version still moves."""
    return [change(PARTICIPANTS, envelope, {})]
