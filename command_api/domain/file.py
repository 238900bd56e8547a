"""File uploaded to a chat session. Its public id is an integer (as in OCS); its bytes live in the
file store, written before this aggregate records them."""

import secrets
from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id

# Uploaded files not attached to a message within this time may be deleted (SPEC §3.16).
UNATTACHED_LIFETIME_S = 24 * 3600


class File(OcsAggregate):
    class Created(OcsAggregate.Created):
        file_id: int
        session_id: str
        name: str
        content_type: str
        size: int
        purpose: str
        expires_at: str | None
        metadata: dict

    class Attached(OcsAggregate.Event):
        """Attached to a message: kept for good."""

        message_id: str

        def apply(self, file: "File") -> None:
            file.expires_at = None
            file.message_id = self.message_id

    def __init__(
        self,
        id: UUID,
        team: str,
        file_id: int,
        session_id: str,
        name: str,
        content_type: str,
        size: int,
        purpose: str,
        expires_at: str | None,
        metadata: dict,
    ):
        self.team = team
        self.file_id = file_id
        self.session_id = session_id
        self.name = name
        self.content_type = content_type
        self.size = size
        self.purpose = purpose
        self.expires_at = expires_at
        self.metadata = metadata
        self.message_id: str | None = None

    def expired(self, now_iso: str) -> bool:
        return self.expires_at is not None and self.expires_at <= now_iso

    def attach(self, message_id: str) -> None:
        self.trigger_event(self.Attached, message_id=message_id)


def new_file_id() -> int:
    """A random id below 2**53, so JavaScript clients read it exactly."""
    return secrets.randbelow(2**53 - 1) + 1


def file_aggregate_id(file_id: int) -> UUID:
    return derived_id("file", str(file_id))
