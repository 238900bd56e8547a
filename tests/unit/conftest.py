"""Shared fixtures for the unit tests: aggregates built in memory, and a write model on a temporary SQLite file.

Nothing here starts a server; the session-scoped `stack`/`tenant` fixtures of tests/conftest.py must not be used.
"""

from uuid import uuid4

import pytest

from command_api import commands
from command_api.bus import CommandBus
from command_api.domain.chat_session import ChatSession
from command_api.domain.chatbot import Chatbot
from command_api.write_model.application import OcsApplication, to_envelope
from tests.write_model import new_bus, new_chatbot

TEAM = "acme"
# A recognisable secret: tests assert it never leaves the write model.
LLM_API_KEY = "sk-unit-test-secret"


@pytest.fixture
def chat_session() -> ChatSession:
    return ChatSession(
        id=uuid4(),
        team=TEAM,
        chatbot_id=str(uuid4()),
        participant_id=str(uuid4()),
        participant_identifier="jane@example.com",
        participant_remote_id="",
        channel_id=str(uuid4()),
        platform=None,
        status="setup",
        state={},
        session_token_required=True,
    )


@pytest.fixture
def chatbot() -> Chatbot:
    return Chatbot(
        id=uuid4(),
        team=TEAM,
        name="Bot",
        description="answers",
        llm={"prompt": "be brief", "provider": "openai", "model": "m", "base_url": None, "api_key": LLM_API_KEY},
    )


@pytest.fixture
def envelopes_of():
    """The envelopes of aggregates' pending events, numbered as one log would number them, without an event store."""

    def envelopes(*aggregates) -> list[dict]:
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        return [to_envelope(event, position) for position, event in enumerate(events, start=1)]

    return envelopes


@pytest.fixture
def open_application(tmp_path):
    """Open an application on this test's event store and file directory; each call is like another process.

    A real event store on a local file: cheap, and it exercises the recorder's conflict detection.
    """
    opened = []

    def open_() -> OcsApplication:
        opened.append(OcsApplication(f"sqlite:///{tmp_path}/events.sqlite", tmp_path / "files"))
        return opened[-1]

    yield open_
    for application in opened:
        application.close()


@pytest.fixture
def app(open_application) -> OcsApplication:
    return open_application()


@pytest.fixture
def other_process(app, open_application) -> OcsApplication:
    """A second application on the same event store, standing in for another process (CLI, API replica)."""
    return open_application()


@pytest.fixture
def llm_api_key() -> str:
    return LLM_API_KEY


@pytest.fixture
def bus(app) -> CommandBus:
    return new_bus(app)


@pytest.fixture
def team(bus) -> str:
    bus.handle(commands.CreateTeam(slug=TEAM, name="Acme"))
    return TEAM


@pytest.fixture
def create_chatbot(bus):
    def create(team: str = TEAM, **overrides) -> str:
        fields = dict(prompt="be brief", provider="openai", llm_api_key=LLM_API_KEY)
        return new_chatbot(bus, team, **{**fields, **overrides})

    return create


@pytest.fixture
def chatbot_id(team, create_chatbot) -> str:
    return create_chatbot(team)


@pytest.fixture
def create_session(bus, team, chatbot_id):
    """POST /api/sessions/ as the handler sees it, by acme's admin, on acme's chatbot unless told otherwise."""

    def create(**overrides):
        fields = dict(team=team, caller=f"admin@{team}", experiment=chatbot_id, participant=None)
        return bus.handle(commands.CreateSession(**{**fields, **overrides}))

    return create


@pytest.fixture
def event_types(app):
    """The types of the events recorded so far, in log order."""

    def types() -> list[str]:
        return [envelope["type"] for envelope in app.all_envelopes()]

    return types
