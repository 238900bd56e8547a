"""Producing what the bot says, from the write model's current state: the reply to a user's message
(SPEC §4.2) and the message a trigger asks for (SPEC §3.14).

Redelivery is harmless: a task already answered is skipped before the LLM is called, and recording an
answer is refused for a task answered in the meantime, so each task gets exactly one answer.
"""

import logging
from uuid import UUID

from command_api import commands
from command_api.application import OcsApplication
from command_api.bus import CommandBus
from command_api.domain.chat_session import ChatSession
from command_api.domain.chatbot import Chatbot
from command_api.domain.participant import Participant
from command_api.handlers import load
from workers.llm import LlmCall, LlmClients, LlmFailure
from workers.prompt import render

log = logging.getLogger(__name__)

HISTORY_MESSAGES = 50
EVENTS_SCANNED = 4 * HISTORY_MESSAGES


class ReplyProducer:
    def __init__(self, app: OcsApplication, bus: CommandBus, llm: LlmClients):
        self.app = app
        self.bus = bus
        self.llm = llm

    def handle(self, envelope: dict) -> None:
        """The worker's part: answer what no request is answering itself."""
        data = envelope["data"]
        session_id = envelope["aggregate_id"]
        try:
            if envelope["type"] == "ChatSession.UserMessageSubmitted" and not data.get("answered_in_request"):
                self.answer(session_id, data["task_id"], data["message"], data.get("version_number"))
            elif envelope["type"] == "ChatSession.BotMessageRequested":
                self.send_bot_message(session_id, data["task_id"], data["prompt_text"], data["message_text"])
        except LlmFailure:
            pass  # recorded as the task's failure

    def give_up(self, envelope: dict, error: Exception) -> None:
        """Record that a task could not be answered, so its user sees an error instead of waiting."""
        task_id = envelope["data"].get("task_id")
        if task_id and envelope["type"] in ("ChatSession.UserMessageSubmitted", "ChatSession.BotMessageRequested"):
            self.bus.handle(commands.RecordReplyFailure(envelope["aggregate_id"], task_id, repr(error), False))

    def answer(self, session_id: str, task_id: str, message: dict, version_number: int | None = None) -> str | None:
        """Produce and record the reply to one message; the reply's text, or None if it was already
        answered. Raises LlmFailure, after recording it, when the provider gives no reply."""
        text, version_tag = self.complete(
            session_id, task_id, {"role": "user", "content": message["content"]}, version_number
        ) or (None, None)
        if text is None:
            return None
        self.bus.handle(commands.RecordReply(session_id, task_id, text, (version_tag,)))
        log.info("reply recorded for session %s", session_id)
        return text

    def send_bot_message(self, session_id: str, task_id: str, prompt_text: str | None, message_text: str | None):
        """A trigger's message: the text verbatim, or what the LLM writes when given the prompt as an
        instruction after the conversation so far."""
        if message_text is not None:
            self.bus.handle(commands.RecordBotMessage(session_id, task_id, message_text, True, ()))
            return
        completed = self.complete(session_id, task_id, {"role": "system", "content": prompt_text})
        if completed:
            text, version_tag = completed
            self.bus.handle(commands.RecordBotMessage(session_id, task_id, text, False, (version_tag,)))

    def complete(self, session_id: str, task_id: str, last: dict, version_number: int | None = None):
        """(the LLM's text, the answering version's tag) for a task, or None if it is already answered."""
        session = load(self.app, session_id, ChatSession)
        if session is None or session.is_answered(task_id):
            return None
        chatbot = load(self.app, session.chatbot_id, Chatbot)
        participant = load(self.app, session.participant_id, Participant)
        # The version was checked when the task was accepted; one archived since falls back to the default.
        config, version_tag = chatbot.answering_config(version_number) or chatbot.answering_config()
        system_prompt = render(
            config["prompt"], session.state, participant.data_for(str(chatbot.id)) if participant else {}
        )
        call = LlmCall(
            provider=config["provider"],
            model=config["model"],
            base_url=config["base_url"],
            api_key=config.get("api_key"),
            messages=[{"role": "system", "content": system_prompt}, *self.history(session_id, task_id), last],
        )
        try:
            return self.llm.reply(call), version_tag
        except LlmFailure as exc:
            log.warning("no answer for task %s of session %s: %s", task_id, session_id, exc)
            self.bus.handle(commands.RecordReplyFailure(session_id, task_id, str(exc), user_facing=False))
            raise

    def history(self, session_id: str, task_id: str) -> list[dict]:
        """The conversation before this task, oldest first, each earlier message followed by its reply
        (users may send several messages before the first is answered)."""
        events = list(self.app.events.get(UUID(session_id), desc=True, limit=EVENTS_SCANNED))[::-1]
        replies = {e.task_id: e.message for e in events if isinstance(e, ChatSession.ReplyRecorded)}
        conversation = []
        for event in events:
            if getattr(event, "task_id", None) == task_id:
                break
            if isinstance(event, ChatSession.MessagesAppended):
                conversation.extend(event.messages)
            elif isinstance(event, ChatSession.BotMessageSent):
                conversation.append(event.message)
            elif isinstance(event, ChatSession.UserMessageSubmitted):
                conversation.append(event.message)
                if event.task_id in replies:
                    conversation.append(replies[event.task_id])
        return [{"role": m["role"], "content": m["content"]} for m in conversation[-HISTORY_MESSAGES:]]
