"""A Responses API response its client asked to keep (`store`): which exchange of which chat session it was, so it
can be retrieved, its input listed, the conversation continued, and deleted. Its texts stay the session's
messages, so the events name messages instead of copying them."""

from uuid import UUID

from command_api.domain.base import OcsAggregate


class StoredResponse(OcsAggregate):
    class Created(OcsAggregate.Created):
        chatbot_id: str
        session_id: str
        task_id: str
        input_message_ids: list
        previous_response_id: str | None
        instructions: str | None
        # [key, value] pairs: a client's object must never reach the event encoding as one (`_type_`/`_data_`).
        metadata: list
        model: str
        status: str
        error: str | None
        usage: dict | None
        created_at: int

    class Deleted(OcsAggregate.Event):
        """The response is gone for its client; the session's messages stay."""

        def apply(self, response: "StoredResponse") -> None:
            response.deleted = True

    def __init__(
        self,
        id: UUID,
        team: str,
        chatbot_id: str,
        session_id: str,
        task_id: str,
        input_message_ids: list,
        previous_response_id: str | None,
        instructions: str | None,
        metadata: list,
        model: str,
        status: str,
        error: str | None,
        usage: dict | None,
        created_at: int,
    ):
        self.team = team
        self.chatbot_id = chatbot_id
        self.session_id = session_id
        self.deleted = False

    def delete(self) -> None:
        if not self.deleted:
            self.trigger_event(self.Deleted)
