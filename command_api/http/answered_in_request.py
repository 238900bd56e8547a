"""What the endpoints that answer within the request share (chat completions, `incoming_message`, the Responses
API): waiting until the read model shows the exchange, and a reply produced in a thread of its own while its
pieces stream out, so that it is recorded whether or not the client stays to the end."""

import json
import logging
import queue
import threading
from collections.abc import Callable

from flask import g

from command_api import commands
from command_api.bus import CommandBus
from command_api.domain.chat_session import ChatSession
from command_api.handlers.conversations import Exchange
from command_api.ports import NoReply
from command_api.read_your_writes import ReadModelWaiter
from command_api.write_model.application import EventTooLarge
from command_api.write_model.repository import load
from schemas.errors import openai_error
from schemas.read_models import SESSIONS

log = logging.getLogger(__name__)


def started(
    bus: CommandBus, kind: type[commands.StartCompletion], chatbot_id, version: int | None, **fields
) -> Exchange:
    """The exchange the caller starts with the chatbot (`kind`: a completion's or a response's); input too large for
    one event is OpenAI's 413."""
    try:
        return bus.handle(
            kind(team=g.caller.team, caller=g.caller.user, chatbot_id=str(chatbot_id), version_number=version, **fields)
        )
    except EventTooLarge as exc:
        raise openai_error(413, exc.message()) from None


def settled(bus: CommandBus, waiter: ReadModelWaiter, session_id: str) -> None:
    """Return once the read model shows the whole exchange, reply included."""
    session = load(bus.app, session_id, ChatSession)
    waiter.wait(SESSIONS, str(session.id), session.version)


def in_background(produce: Callable[[Callable[[str], None]], object], name: str) -> queue.Queue:
    """Run `produce(on_piece)` in a thread: the queue receives each piece of text (str) as it comes, then what
    `produce` returned, or the exception it raised."""
    pieces: queue.Queue = queue.Queue()

    def run() -> None:
        try:
            pieces.put(produce(pieces.put))
        except Exception as exc:  # the client must hear of it; NoReply is recorded already, the rest is logged
            if not isinstance(exc, NoReply):
                log.exception("the streamed reply of %s failed", name)
            pieces.put(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return pieces


# A proxy passes each event on at once.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(data: dict, event: str | None = None) -> str:
    """One server-sent event; `event` names its type where the protocol names types (the Responses API)."""
    named = f"event: {event}\n" if event else ""
    return f"{named}data: {json.dumps(data)}\n\n"
