"""Health tells the truth: a relay that cannot publish, or an event parked, is reported, not only a dead process."""

from uuid import UUID

import pytest

from command_api import commands
from command_api.relay import GROUP as RELAY
from infra import heartbeat
from infra.health import PipelineHealth
from tests.integration.conftest import Background, record_workload
from tests.stack import eventually


@pytest.fixture
def health(servers, monkeypatch):
    monkeypatch.setattr(heartbeat, "STUCK_AFTER_S", 1.0)
    system = servers.system
    return PipelineHealth(system.db, ["relay"], lambda: system.app.recorder.max_notification_id() or 0)


def test_a_relay_that_cannot_reach_the_broker_is_reported_until_it_catches_up(servers, background, health):
    system = servers.system
    relay = system.relay()
    background.run(relay)
    record_workload(system, sessions=1)
    assert eventually(lambda: health.report().components["relay"] == "ok" and health.report().relay_backlog == 0, 30)

    servers.kafka.stop()
    try:
        record_workload(system, sessions=1)
        reported = eventually(lambda: (report := health.report()).components["relay"] != "ok" and report, 60)
        assert reported, health.report()
        assert reported.relay_backlog > 0 and reported.problems[0].startswith("relay ")
    finally:
        servers.kafka.start()
    assert eventually(lambda: not (report := health.report()).problems and report.relay_backlog == 0, 90), (
        health.report()
    )


def test_a_parked_event_is_reported_until_it_is_replayed(servers, background, health):
    system = servers.system
    small = system.relay()
    small.max_message_bytes = 6000  # as if the broker took 6 kB at most
    first = Background()
    first.run(small)
    (session,) = record_workload(system, sessions=1, messages_per_session=1)
    team = system.app.repository.get(UUID(session)).team
    system.bus.handle(commands.ReplaceSessionState(team, session, {"large": "x" * 10_000}))

    report = eventually(lambda: (r := health.report()).parked and r, 30)
    assert report and report.components["dead_letters"] == "parked"
    assert "1 events parked: `ocs admin dead-letters` lists them" in report.problems

    first.halt()
    background.run(system.relay())  # the fix: a broker that takes it
    system.dead_letters(RELAY).request_replay()
    assert eventually(lambda: health.report().parked == 0, 30), health.report()
