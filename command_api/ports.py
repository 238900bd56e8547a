"""What the write side's synchronous endpoints need from elsewhere, as interfaces it owns: a reply within the
request (chat completions, `incoming_message`) is produced by whatever the composition root plugs in (the LLM
workers' ReplyProducer), so the write side imports no worker."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class NoReply(Exception):
    """The task ended in an error, already recorded: the LLM provider or a pipeline node gave no reply."""


@dataclass(frozen=True)
class Answer:
    text: str
    usage: dict | None  # prompt_tokens, completion_tokens, total_tokens, as the provider reported them


class ReplySource(Protocol):
    def answer(
        self,
        session_id: str,
        task_id: str,
        message: dict,
        version_number: int | None = None,
        on_piece: Callable[[str], None] | None = None,
        instructions: str | None = None,
    ) -> Answer | None:
        """Produce and record the reply to one message; the answer, or None if it was already answered. `on_piece`
        receives the text as it is generated; `instructions` follow the chatbot's prompt for this reply only. Raises
        NoReply, after recording the failure, when no reply could be produced."""
