"""Files uploaded to chat sessions, and the message each is attached to."""

from projectors.projections.writes import Write, change, create
from schemas.read_models import (
    FILES,
)


def file_created(envelope: dict, data: dict) -> list[Write]:
    return [
        create(
            FILES,
            envelope,
            {
                "file_id": data["file_id"],
                "session_id": data["session_id"],
                "name": data["name"],
                "content_type": data["content_type"],
                "size": data["size"],
                "purpose": data["purpose"],
                "expires_at": data["expires_at"],
            },
        )
    ]


def file_attached(envelope: dict, data: dict) -> list[Write]:
    return [change(FILES, envelope, {"$set": {"expires_at": None, "message_id": data["message_id"]}})]
