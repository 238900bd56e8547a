"""CommandBus: one handler per command, re-run when another writer changed the aggregate first."""

from dataclasses import dataclass

import pytest
from eventsourcing.persistence import IntegrityError

from command_api import bus as bus_module
from command_api import commands
from command_api.bus import MAX_ATTEMPTS
from command_api.domain.chatbot import Chatbot
from command_api.write_model.repository import load
from schemas.errors import ApiError
from tests.write_model import new_bus


@dataclass(frozen=True)
class Probe:
    """A command of the test's own, so the bus's retry loop is exercised without staging a race."""

    conflicts: int


@pytest.fixture
def attempts(monkeypatch) -> list[int]:
    """Register a handler for Probe that conflicts `conflicts` times, then succeeds; it records each attempt."""
    calls: list[int] = []

    def handle(command: Probe, app):
        calls.append(len(calls) + 1)
        if len(calls) <= command.conflicts:
            raise IntegrityError("another writer got there first")
        return "done"

    monkeypatch.setitem(bus_module.HANDLERS, Probe, handle)
    return calls


def test_a_conflicting_write_is_retried_until_it_succeeds(bus, attempts):
    assert bus.handle(Probe(conflicts=3)) == "done"
    assert attempts == [1, 2, 3, 4]


def test_the_bus_gives_up_after_max_attempts(bus, attempts):
    with pytest.raises(IntegrityError):
        bus.handle(Probe(conflicts=MAX_ATTEMPTS))

    assert len(attempts) == MAX_ATTEMPTS


def test_a_refusal_is_not_retried(bus, monkeypatch):
    calls = []

    def refuse(command, app):
        calls.append(command)
        raise ApiError(400, {"detail": "no"})

    monkeypatch.setitem(bus_module.HANDLERS, Probe, refuse)

    with pytest.raises(ApiError):
        bus.handle(Probe(conflicts=0))
    assert len(calls) == 1


def test_a_decision_on_a_stale_aggregate_is_refused_by_the_event_store(app, chatbot_id, other_process):
    # The conflict the bus retries on: another process wrote first.
    stale = load(app, chatbot_id, Chatbot)
    new_bus(other_process).handle(
        commands.PublishVersion(chatbot_id=chatbot_id, description="theirs", make_default=False)
    )
    stale.publish_version("mine", "", False)

    with pytest.raises(IntegrityError):
        app.save(stale)
