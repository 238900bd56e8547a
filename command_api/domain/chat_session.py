"""Chat session (an OCS "experiment session") with its messages.

The aggregate keeps what decisions need (status, state, tags, message count); message contents live
only in the events, so snapshots of long sessions stay small.
"""

from datetime import datetime, timedelta, timezone
from uuid import UUID

from command_api.domain.base import OcsAggregate, derived_id, utc_iso

# The session state key that only the `page_context` parameter may set (SPEC §9.1).
PAGE_CONTEXT_KEY = "page_context"


class ChatSession(OcsAggregate):
    class Created(OcsAggregate.Created):
        chatbot_id: str
        participant_id: str
        participant_identifier: str
        participant_remote_id: str
        channel_id: str
        platform: str | None
        status: str
        state: dict
        session_token_required: bool

    class MessagesAppended(OcsAggregate.Event):
        messages: list

        def apply(self, session: "ChatSession") -> None:
            session.message_count += len(self.messages)
            session.last_message_at = datetime.fromisoformat(self.messages[-1]["created_at"])

    def __init__(
        self,
        id: UUID,
        team: str,
        chatbot_id: str,
        participant_id: str,
        participant_identifier: str,
        participant_remote_id: str,
        channel_id: str,
        platform: str | None,
        status: str,
        state: dict,
        session_token_required: bool,
    ):
        self.team = team
        self.chatbot_id = chatbot_id
        self.participant_id = participant_id
        self.channel_id = channel_id
        self.platform = platform
        self.status = status
        self.state = state
        self.session_token_required = session_token_required
        self.message_count = 0
        self.last_message_at = datetime.min.replace(tzinfo=timezone.utc)

    def append_messages(self, messages: list[dict], message_ids: list[str]) -> None:
        """Append messages ({role, content, metadata?, tags?}) in order, each with its own instant."""
        # Distinct instants, increasing within the session, keep `since`-style polling exact.
        at = max(datetime.now(timezone.utc), self.last_message_at)
        appended = [
            {
                "id": message_id,
                "seq": self.message_count + offset,
                "created_at": utc_iso(at + timedelta(microseconds=offset + 1)),
                "role": message["role"],
                "content": message["content"],
                "metadata": message.get("metadata", {}),
                "tags": message.get("tags", []),
            }
            for offset, (message, message_id) in enumerate(zip(messages, message_ids, strict=True))
        ]
        self.trigger_event(self.MessagesAppended, messages=appended)


def api_channel_id(team: str) -> str:
    """The team's API channel, which every session created over the team API belongs to."""
    return str(derived_id("api_channel", team))
