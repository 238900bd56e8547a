"""Recording data straight on the write model (the command bus, as `ocs admin` does), much faster than
through HTTP: chat traffic for the projector benchmark, and many sessions for the growth benchmark.

The relay, projector and worker then take these events exactly as they take the API's.
"""

import time
from uuid import uuid4

from command_api import commands
from infra.wiring.bootstrap import System


def create_tenant(system: System, slug: str, provider: str = "echo", base_url: str | None = None) -> dict:
    """A team, a writable API key and a chatbot (published as version 1)."""
    system.bus.handle(commands.CreateTeam(slug=slug, name=slug))
    key = system.bus.handle(commands.IssueApiKey(team=slug, name="bench", read_only=False)).body["key"]
    chatbot_id = system.bus.handle(
        commands.CreateChatbot(
            team=slug,
            name=f"{slug} bot",
            description="",
            prompt="You are a helpful assistant.",
            provider=provider,
            model="m",
            base_url=base_url,
            llm_api_key="x" if base_url else None,
        )
    ).body["id"]
    system.bus.handle(commands.PublishVersion(chatbot_id=chatbot_id, description="v1", make_default=True))
    return {"team": slug, "key": key, "chatbot_id": chatbot_id}


def start_chat(system: System, chatbot_id: str) -> str:
    started = system.bus.handle(
        commands.StartChatSession(
            chatbot_id=chatbot_id,
            widget_channel_id=None,
            version_number=None,
            participant_remote_id="",
            participant_name=None,
            page_context={"page": "/bench"},
        )
    )
    return str(started.session.id)


def record_chat_traffic(system: System, chatbot_id: str, sessions: int, exchanges: int) -> dict:
    """Widget sessions, each with `exchanges` user messages and their replies, as the load produces them
    (the replies recorded here, so the worker finds every task answered and calls no LLM)."""
    began = time.monotonic()
    for _ in range(sessions):
        session_id = start_chat(system, chatbot_id)
        for n in range(exchanges):
            task_id = system.bus.handle(
                commands.SubmitChatMessage(
                    session_id=session_id,
                    text=f"question {n}",
                    context=None,
                    attachment_ids=(),
                    version_number=None,
                )
            ).task_id
            system.bus.handle(commands.RecordReply(session_id, task_id, f"echo: question {n}", ("v1",)))
    return {"commands": sessions * (1 + 2 * exchanges), "seconds": round(time.monotonic() - began, 2)}


def record_sessions(system: System, tenant: dict, count: int, first: int = 0) -> str:
    """`count` API sessions with a two-message history, each with its own participant (as widget users
    are); the id of the last one."""
    last = None
    for n in range(first, first + count):
        created = system.bus.handle(
            commands.CreateSession(
                team=tenant["team"],
                caller="admin",
                experiment=tenant["chatbot_id"],
                participant=f"growth-{n}@example.com",
                messages=(
                    {"role": "user", "content": f"hello {n}"},
                    {"role": "assistant", "content": f"hi {n}, how can I help?"},
                ),
                state={"n": n},
                page_context={"page": f"/p/{n}"},
            )
        )
        last = str(created.session.id)
    return last


def submit_messages(system: System, session_id: str, count: int) -> None:
    """`count` user messages on one chat session; the worker answers each (use an echo chatbot)."""
    for n in range(count):
        system.bus.handle(
            commands.SubmitChatMessage(
                session_id=session_id,
                text=f"long conversation {n}",
                context=None,
                attachment_ids=(),
                version_number=None,
            )
        )


def new_slug(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"
