"""Aggregates in read-model shape, so command responses render with the same code as the query API."""

from command_api.domain.chat_session import ChatSession
from command_api.domain.chatbot import Chatbot
from command_api.domain.file import File
from command_api.domain.participant import Participant
from command_api.domain.team import Team
from schemas.instants import utc_iso
from schemas.read_models import stored_json


def team_document(team: Team) -> dict:
    return {"team": team.team, "name": team.name}


def chatbot_document(chatbot: Chatbot) -> dict:
    return {
        "_id": str(chatbot.id),
        "name": chatbot.name,
        "description": chatbot.description,
        "version_number": chatbot.version_number,
        "versions": chatbot.versions,
        "default_version_number": chatbot.default_version_number,
    }


def session_document(session: ChatSession, participant_identifier: str, participant_remote_id: str) -> dict:
    return {
        "_id": str(session.id),
        "participant": {"identifier": participant_identifier, "remote_id": participant_remote_id},
        "created_at": utc_iso(session.created_on),
        "updated_at": utc_iso(session.modified_on),
        "status": session.status,
        "platform": session.platform,
        "tags": [],
        "state": stored_json(session.state),
    }


def participant_document(participant: Participant) -> dict:
    return {
        "_id": str(participant.id),
        "identifier": participant.identifier,
        "name": participant.name,
        "platform": participant.platform,
        "remote_id": participant.remote_id,
        "data": {chatbot_id: stored_json(data) for chatbot_id, data in participant.data.items()},
    }


def file_document(file: File) -> dict:
    return {
        "file_id": file.file_id,
        "name": file.name,
        "content_type": file.content_type,
        "size": file.size,
    }
