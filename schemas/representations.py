"""Response bodies (SPEC §2), rendered from read-model-shaped documents.

The query API renders MongoDB documents; the command API renders the same shapes built from the write
model, so a `POST` answers exactly what a `GET` of the same object shows.
"""

import json


def experiment_url(base_url: str, chatbot_id: str) -> str:
    return f"{base_url}api/experiments/{chatbot_id}/"


def session_url(base_url: str, session_id: str) -> str:
    return f"{base_url}api/sessions/{session_id}/"


def experiment(chatbot: dict, base_url: str) -> dict:
    default = chatbot.get("default_version_number")
    return {
        "id": chatbot["_id"],
        "name": chatbot["name"],
        "url": experiment_url(base_url, chatbot["_id"]),
        "version_number": chatbot["version_number"],
        "versions": [
            {
                "name": version["name"],
                "version_number": version["version_number"],
                "is_default_version": version["version_number"] == default,
                "version_description": version["version_description"],
            }
            for version in sorted(chatbot["versions"], key=lambda v: v["version_number"])
            if not version.get("archived")
        ],
    }


def experiment_stub(chatbot: dict, base_url: str) -> dict:
    return {
        "id": chatbot["_id"],
        "name": chatbot["name"],
        "description": chatbot["description"],
        "url": experiment_url(base_url, chatbot["_id"]),
        "version_number": chatbot["version_number"],
    }


def session(doc: dict, chatbot: dict, team: dict, base_url: str) -> dict:
    return {
        "url": session_url(base_url, doc["_id"]),
        "id": doc["_id"],
        "team": {"name": team["name"], "slug": team["team"]},
        "experiment": experiment_stub(chatbot, base_url),
        "participant": {"identifier": doc["participant"]["identifier"], "remote_id": doc["participant"]["remote_id"]},
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
        "status": doc["status"],
        "platform": doc["platform"],
        "tags": doc["tags"],
        "state": json.loads(doc["state"]),
    }


def file_url(base_url: str, file_id: int) -> str:
    return f"{base_url}api/files/{file_id}/content"


def message(doc: dict, base_url: str) -> dict:
    return {
        "created_at": doc["created_at"],
        "role": doc["role"],
        "content": doc["content"],
        "metadata": json.loads(doc["metadata"]),
        "tags": doc["tags"],
        "attachments": [
            {
                "name": attachment["name"],
                "content_type": attachment["content_type"],
                "size": attachment["size"],
                "content_url": file_url(base_url, attachment["id"]),
            }
            for attachment in doc["attachments"]
        ],
    }


NO_USAGE = {"total_cost": "0.00000000", "by_model": []}


def session_with_messages(doc: dict, chatbot: dict, team: dict, messages: list[dict], base_url: str) -> dict:
    return {
        **session(doc, chatbot, team, base_url),
        "messages": [message(m, base_url) for m in messages],
        "usage": NO_USAGE,
    }


def participant_detail(doc: dict, chatbots: dict[str, dict], only_chatbot: str | None = None) -> dict:
    """ParticipantDetail: its data for every chatbot of the team (or for `only_chatbot`)."""
    return {
        "id": doc["_id"],
        "identifier": doc["identifier"],
        "name": doc["name"],
        "platform": doc["platform"],
        "remote_id": doc["remote_id"],
        "data": [
            {
                "chatbot": chatbots[chatbot_id]["name"],
                "chatbot_id": chatbot_id,
                "data": json.loads(stored),
                "connect_channel_id": None,
            }
            for chatbot_id, stored in doc["data"].items()
            if chatbot_id in chatbots and only_chatbot in (None, chatbot_id)
        ],
    }
