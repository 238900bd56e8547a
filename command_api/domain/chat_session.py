"""Chat session (an OCS "experiment session") with its messages.

The aggregate keeps what decisions need (status, state, tags, message count); message contents live
only in the events, so snapshots of long sessions stay small.
"""

from datetime import datetime, timedelta, timezone
from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id
from schemas.instants import utc_iso
from schemas.session_state import PAGE_CONTEXT_KEY, REMOTE_CONTEXT_KEY
from schemas.session_status import ACTIVE, NOT_YET_ACTIVE

# A task's state while its user asked to stop the reply and the worker has not yet recorded what it had.
CANCELLING = "cancelling"

# The chat API counts only `complete` as ended (SPEC §3.17, quirk Q1 mirrored).
CHAT_ENDED = "complete"
# What ending a session leaves it as, or leaves as it is.
ENDED = ("pending-review", CHAT_ENDED)
# The most user tags one session carries: each tag call rewrites the session's tag list in the read model.
MAX_SESSION_TAGS = 500


class TooManyTags(Exception):
    def __init__(self):
        super().__init__(f"A session has at most {MAX_SESSION_TAGS} tags")


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
            for message in self.messages:
                session.count_message(message)

    class UserMessageSubmitted(OcsAggregate.Event):
        """A user's message, accepted for a reply: the task `task_id` is now processing."""

        task_id: str
        message: dict
        version_number: int | None
        answered_in_request: bool

        def apply(self, session: "ChatSession") -> None:
            session.count_message(self.message)
            session.tasks[self.task_id] = "processing"
            if session.status in NOT_YET_ACTIVE:
                session.status = ACTIVE

    class BotMessageRequested(OcsAggregate.Event):
        """The bot is to message the participant: `message_text` verbatim, or what the LLM makes of `prompt_text`."""

        task_id: str
        prompt_text: str | None
        message_text: str | None

        def apply(self, session: "ChatSession") -> None:
            session.tasks[self.task_id] = "processing"

    class BotMessageSent(OcsAggregate.Event):
        """The bot's message to the participant on a messaging channel: the outbound message to deliver."""

        task_id: str
        message: dict
        channel_id: str
        platform: str
        recipient: str
        usage: dict | None = None  # tokens the provider reported (None: a verbatim message, or before it was kept)
        model: str | None = None  # the model that wrote it from a prompt

        def apply(self, session: "ChatSession") -> None:
            session.count_message(self.message)
            session.tasks[self.task_id] = "complete"

    class DeliveryRecorded(OcsAggregate.Event):
        """How delivering a bot message to the channel's webhook ended."""

        message_id: str
        delivered: bool
        attempts: int
        error: str | None

        def apply(self, session: "ChatSession") -> None:
            session.deliveries[self.message_id] = self.delivered

    class Ended(OcsAggregate.Event):
        """Ended through the API (or by the user): status `pending-review`."""

        via: str

        def apply(self, session: "ChatSession") -> None:
            session.status = "pending-review"

    class Tagged(OcsAggregate.Event):
        """User tags newly on the session."""

        tags: list

        def apply(self, session: "ChatSession") -> None:
            session.user_tags = [*session.user_tags, *self.tags]

    class Untagged(OcsAggregate.Event):
        """User tags taken off the session."""

        tags: list

        def apply(self, session: "ChatSession") -> None:
            removed = set(self.tags)
            session.user_tags = [tag for tag in session.user_tags if tag not in removed]

    class StateChanged(OcsAggregate.Event):
        """The whole new state (subscribers and projections need no earlier state to apply it)."""

        state: dict

        def apply(self, session: "ChatSession") -> None:
            session.state = self.state

    class ReplyRecorded(OcsAggregate.Event):
        task_id: str
        message: dict
        trace: list | None = None  # a pipeline's nodes as they ran (None: no pipeline)
        usage: dict | None = None  # tokens the provider reported
        model: str | None = None  # the answering version's model, which prices `usage` (None: before it was kept)

        def apply(self, session: "ChatSession") -> None:
            session.count_message(self.message)
            session.tasks[self.task_id] = "complete"

    class ReplyCancelRequested(OcsAggregate.Event):
        """Stop generating: the worker records what it has so far as the reply."""

        task_id: str

        def apply(self, session: "ChatSession") -> None:
            session.tasks[self.task_id] = CANCELLING

    class ReplyFailed(OcsAggregate.Event):
        task_id: str
        error: str
        user_facing: bool

        def apply(self, session: "ChatSession") -> None:
            session.tasks[self.task_id] = "error"

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
        self.participant_identifier = participant_identifier
        self.channel_id = channel_id
        self.platform = platform
        self.status = status
        self.state = state
        self.session_token_required = session_token_required
        self.message_count = 0
        self.last_message_at = datetime.min.replace(tzinfo=timezone.utc)
        self.tasks: dict[str, str] = {}
        self.user_tags: list[str] = []
        self.deliveries: dict[str, bool] = {}

    @property
    def tags(self) -> list[str]:
        """Every tag name on the session (system tags, such as version tags, live on messages)."""
        return list(self.user_tags)

    def end(self, via: str) -> None:
        # Ending a `complete` session again would downgrade it (SPEC §3.5 quirk, not mirrored); ending an ended
        # one again changes nothing, so nothing is recorded (OCS resets `ended_at` and fires its triggers again).
        if self.status not in ENDED:
            self.trigger_event(self.Ended, via=via)

    def add_tags(self, names: list[str]) -> None:
        """Raises TooManyTags, adding none, when the session would carry more than MAX_SESSION_TAGS."""
        present = set(self.user_tags)
        new = [name for name in dict.fromkeys(names) if name not in present]
        if len(present) + len(new) > MAX_SESSION_TAGS:
            raise TooManyTags()
        if new:
            self.trigger_event(self.Tagged, tags=new)

    def remove_tags(self, names: list[str]) -> None:
        present = set(self.user_tags)
        present = [name for name in dict.fromkeys(names) if name in present]
        if present:
            self.trigger_event(self.Untagged, tags=present)

    def merge_state(self, data: dict) -> None:
        """Set these top-level keys of the state, keeping the others (trigger_bot's `session_data`)."""
        self.change_state({**self.state, **data})

    def change_state(self, state: dict) -> None:
        """Only a state that differs is recorded: a repeated command changes nothing."""
        if state != self.state:
            self.trigger_event(self.StateChanged, state=state)

    def request_bot_message(self, task_id: str, prompt_text: str | None, message_text: str | None) -> None:
        self.trigger_event(
            self.BotMessageRequested, task_id=task_id, prompt_text=prompt_text, message_text=message_text
        )

    def record_bot_message(
        self,
        task_id: str,
        message_id: str,
        text: str,
        metadata: dict,
        tags: list[str],
        channel_id: str,
        platform: str,
        usage: dict | None = None,
        model: str | None = None,
    ) -> None:
        (message,) = self.new_messages(
            [{"id": message_id, "role": "assistant", "content": text, "metadata": metadata, "tags": tags}]
        )
        self.trigger_event(
            self.BotMessageSent,
            task_id=task_id,
            message=message,
            channel_id=channel_id,
            platform=platform,
            recipient=self.participant_identifier,
            usage=usage,
            model=model,
        )

    def record_delivery(self, message_id: str, delivered: bool, attempts: int, error: str | None) -> None:
        if message_id not in self.deliveries:
            self.trigger_event(
                self.DeliveryRecorded, message_id=message_id, delivered=delivered, attempts=attempts, error=error
            )

    def replace_state(self, state: dict) -> None:
        """A client's new state replaces every key but `page_context`, which only its parameter sets."""
        kept = {PAGE_CONTEXT_KEY: self.state[PAGE_CONTEXT_KEY]} if PAGE_CONTEXT_KEY in self.state else {}
        self.change_state({**state, **kept})

    def count_message(self, message: dict) -> None:
        self.message_count += 1
        self.last_message_at = datetime.fromisoformat(message["created_at"])

    def new_messages(self, messages: list[dict]) -> list[dict]:
        """Messages ({id, role, content, metadata?, tags?, attachments?}) numbered and timed as the session's next."""
        # Distinct instants, increasing within the session, keep `since`-style polling exact.
        at = max(datetime.now(timezone.utc), self.last_message_at)
        return [
            {
                "id": message["id"],
                "seq": self.message_count + offset,
                "created_at": utc_iso(at + timedelta(microseconds=offset + 1)),
                "role": message["role"],
                "content": message["content"],
                "metadata": message.get("metadata", {}),
                "tags": message.get("tags", []),
                "attachments": message.get("attachments", []),
            }
            for offset, message in enumerate(messages)
        ]

    def append_messages(self, messages: list[dict]) -> None:
        """Append history ({id, role, content, metadata?, tags?}) in order."""
        self.trigger_event(self.MessagesAppended, messages=self.new_messages(messages))

    def set_remote_context(self, context: dict) -> None:
        """A chat message's `context` replaces only `remote_context`; `page_context` stays (SPEC §9.1)."""
        self.change_state({**self.state, REMOTE_CONTEXT_KEY: context})

    def submit_user_message(
        self,
        task_id: str,
        message_id: str,
        text: str,
        attachments: list[dict],
        version_number: int | None = None,
        answered_in_request: bool = False,
    ) -> dict:
        metadata = {"ocs_attachment_file_ids": [a["id"] for a in attachments]} if attachments else {}
        (message,) = self.new_messages(
            [{"id": message_id, "role": "user", "content": text, "metadata": metadata, "attachments": attachments}]
        )
        self.trigger_event(
            self.UserMessageSubmitted,
            task_id=task_id,
            message=message,
            version_number=version_number,
            answered_in_request=answered_in_request,
        )
        return message

    def is_answered(self, task_id: str) -> bool:
        return self.tasks.get(task_id) in ("complete", "error")

    def is_cancelling(self, task_id: str) -> bool:
        return self.tasks.get(task_id) == CANCELLING

    def request_cancel(self, task_id: str) -> None:
        if self.tasks.get(task_id) == "processing":
            self.trigger_event(self.ReplyCancelRequested, task_id=task_id)

    def record_reply(
        self,
        task_id: str,
        message_id: str,
        text: str,
        tags: list[str],
        trace: list | None = None,
        metadata: dict | None = None,
        usage: dict | None = None,
        model: str | None = None,
    ) -> None:
        reply = {"id": message_id, "role": "assistant", "content": text, "tags": tags, "metadata": metadata or {}}
        (message,) = self.new_messages([reply])
        self.trigger_event(self.ReplyRecorded, task_id=task_id, message=message, trace=trace, usage=usage, model=model)

    def record_failure(self, task_id: str, error: str, user_facing: bool) -> None:
        self.trigger_event(self.ReplyFailed, task_id=task_id, error=error, user_facing=user_facing)


def api_channel_id(team: str) -> str:
    """The team's API channel, which every session created over the team API belongs to."""
    return str(derived_id("api_channel", team))
