"""Producing what the bot says, from the write model's current state: the reply to a user's message
(SPEC §4.2) and the message a trigger asks for (SPEC §3.14).

Redelivery is harmless: a task already answered is skipped before the LLM is called, and recording an
answer is refused for a task answered in the meantime, so each task gets exactly one answer.

A reply is streamed while it is generated: to the reply-deltas topic (`workers/reply_deltas.py`), or to whoever
answers within the request (chat completions with `stream: true`). Its user may stop it (`POST .../cancel/`): what
was generated until then is recorded as the reply, with `{"cancelled": true}` in its metadata.
"""

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from uuid import UUID

from command_api import commands
from command_api.bus import CommandBus
from command_api.domain.chat_session import ChatSession
from command_api.domain.chatbot import Chatbot
from command_api.domain.participant import Participant
from command_api.ports import Answer, NoReply
from command_api.write_model.application import EventTooLarge, OcsApplication
from command_api.write_model.repository import load
from infra.hops import log_reply
from schemas.pipeline_graph import in_graph_form
from workers.llm import Listener, LlmCall, LlmClients, LlmFailure
from workers.pipelines.engine import PipelineEngine
from workers.pipelines.prompt import render
from workers.pipelines.python_node import PythonNodeError
from workers.pipelines.templates import TemplateFailure
from workers.reply_deltas import DeltaPublisher, StopRequests

log = logging.getLogger(__name__)

HISTORY_MESSAGES = 50
EVENTS_SCANNED = 4 * HISTORY_MESSAGES
CANCELLED = {"cancelled": True}


@dataclass(frozen=True)
class Task:
    """A message to answer, with what answers it."""

    task_id: str
    session: ChatSession
    config: dict  # the answering version's: prompt or pipeline, provider, model, ...
    version_tag: str
    participant_data: dict


class ReplyProducer:
    """The LLM workers' reactions to chat events, and the write side's ReplySource (`command_api.ports`)."""

    def __init__(self, app: OcsApplication, bus: CommandBus, llm: LlmClients, deltas: DeltaPublisher):
        self.app = app
        self.bus = bus
        self.llm = llm
        self.pipelines = PipelineEngine(llm)
        self.deltas = deltas

    def answer_submitted(self, envelope: dict) -> None:
        """A user's message was accepted: answer it, unless a request is answering it itself."""
        data = envelope["data"]
        if not data.get("answered_in_request"):
            with suppress(NoReply):  # recorded as the task's failure
                self.answer(envelope["aggregate_id"], data["task_id"], data["message"], data.get("version_number"))

    def send_requested(self, envelope: dict) -> None:
        """A trigger asked the bot to message the participant."""
        data = envelope["data"]
        with suppress(NoReply):  # recorded as the task's failure
            self.send_bot_message(envelope["aggregate_id"], data["task_id"], data["prompt_text"], data["message_text"])

    def record_failure(self, envelope: dict, error: Exception) -> None:
        """Record that a task could not be answered, so its user sees an error instead of waiting."""
        self.bus.handle(
            commands.RecordReplyFailure(envelope["aggregate_id"], envelope["data"]["task_id"], repr(error), False)
        )

    def answer(
        self,
        session_id: str,
        task_id: str,
        message: dict,
        version_number: int | None = None,
        on_piece: Callable[[str], None] | None = None,
        instructions: str | None = None,
    ) -> Answer | None:
        """Produce and record the reply to one message (through the chatbot's pipeline if it has one); the
        answer, or None if it was already answered. Its text goes to `on_piece` as it is generated, or else
        to the reply-deltas topic; `instructions` follow a prompt (a pipeline has its own). Raises NoReply, after
        recording the failure, when the provider or a pipeline
        node gives no reply."""
        task = self.prepare(session_id, task_id, version_number)
        if task is None:
            return None
        deltas = None if on_piece else self.deltas.reply(session_id, task_id)
        listener = Listener(on_piece or deltas.piece, StopRequests(self.app, session_id, task_id))
        with self.failure_recorded(session_id, task_id):
            if task.session.is_cancelling(task_id):  # stopped before it started
                reply = commands.RecordReply(session_id, task_id, "", (task.version_tag,), metadata=CANCELLED)
            elif pipeline := task.config.get("pipeline"):
                outcome = self.pipelines.run(
                    in_graph_form(pipeline),
                    task.config,
                    message["content"],
                    self.history(session_id, task_id),
                    task.session.state,
                    task.participant_data,
                    listener,
                )
                if not outcome.streamed:
                    listener.piece(outcome.reply)
                reply = commands.RecordReply(
                    session_id,
                    task_id,
                    outcome.reply,
                    (task.version_tag, *outcome.message_tags),
                    state=outcome.session_state,
                    participant_data=outcome.participant_data,
                    session_tags=tuple(outcome.session_tags),
                    ends_session=outcome.ends_session,
                    trace=tuple(outcome.trace),
                    metadata=CANCELLED if outcome.stopped else None,
                    usage=outcome.usage,
                    model=task.config.get("model"),
                )
            else:
                last = {"role": "user", "content": message["content"]}
                answered = self.llm.reply(self.call(task, last, instructions), listener)
                metadata = CANCELLED if answered.stopped else None
                reply = commands.RecordReply(
                    session_id,
                    task_id,
                    answered.text,
                    (task.version_tag,),
                    metadata=metadata,
                    usage=answered.usage,
                    model=task.config["model"],
                )
            llm_done_at = time.time()
            if deltas:
                deltas.finish()
            self.bus.handle(reply)
        log.info("reply recorded for session %s", session_id)
        log_reply(task_id, llm_done_at)
        return Answer(reply.text, reply.usage)

    def send_bot_message(self, session_id: str, task_id: str, prompt_text: str | None, message_text: str | None):
        """A trigger's message: the text verbatim, or what the LLM writes when given the prompt as an
        instruction after the conversation so far."""
        if message_text is not None:
            with self.failure_recorded(session_id, task_id):
                self.bus.handle(commands.RecordBotMessage(session_id, task_id, message_text, True, ()))
            return
        task = self.prepare(session_id, task_id)
        if task is None:
            return
        with self.failure_recorded(session_id, task_id):
            written = self.llm.reply(self.call(task, {"role": "system", "content": prompt_text}))
            self.bus.handle(
                commands.RecordBotMessage(
                    session_id,
                    task_id,
                    written.text,
                    False,
                    (task.version_tag,),
                    usage=written.usage,
                    model=task.config["model"],
                )
            )

    def prepare(self, session_id: str, task_id: str, version_number: int | None = None) -> "Task | None":
        """What answering a task needs, or None if it is already answered."""
        session = load(self.app, session_id, ChatSession)
        if session is None or session.is_answered(task_id):
            return None
        chatbot = load(self.app, session.chatbot_id, Chatbot)
        participant = load(self.app, session.participant_id, Participant)
        # The version was checked when the task was accepted; one archived since falls back to the default.
        config, version_tag = chatbot.answering_config(version_number) or chatbot.answering_config()
        participant_data = participant.data_for(str(chatbot.id)) if participant else {}
        return Task(task_id, session, config, version_tag, participant_data)

    def call(self, task: "Task", last: dict, instructions: str | None = None) -> LlmCall:
        """The chatbot's one prompt, rendered, and the caller's instructions after it; then the conversation, then
        `last`."""
        system_prompt = render(task.config["prompt"], task.session.state, task.participant_data)
        if instructions:
            system_prompt = f"{system_prompt}\n\n{instructions}"
        return LlmCall(
            provider=task.config["provider"],
            model=task.config["model"],
            base_url=task.config["base_url"],
            api_key=task.config.get("api_key"),
            messages=[
                {"role": "system", "content": system_prompt},
                *self.history(str(task.session.id), task.task_id),
                last,
            ],
        )

    @contextmanager
    def failure_recorded(self, session_id: str, task_id: str):
        try:
            yield
        except (LlmFailure, PythonNodeError, TemplateFailure, EventTooLarge) as exc:
            reason = exc.message() if isinstance(exc, EventTooLarge) else str(exc)
            log.warning("no answer for task %s of session %s: %s", task_id, session_id, reason)
            self.bus.handle(commands.RecordReplyFailure(session_id, task_id, reason, user_facing=False))
            raise NoReply(reason) from exc

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
