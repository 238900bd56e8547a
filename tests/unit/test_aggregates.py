"""Team, ApiKey, Participant and WidgetChannel, and what every aggregate shares: derived ids, team-tagged events."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from command_api.domain.api_key import ApiKey, api_key_id
from command_api.domain.participant import Participant, participant_id
from command_api.domain.team import Team, team_id
from command_api.domain.widget_channel import WidgetChannel
from schemas.ids import derived_id, widget_channel_id
from schemas.instants import utc_iso


@pytest.fixture
def api_key() -> ApiKey:
    return ApiKey(
        id=api_key_id("abcd1234"),
        team="acme",
        prefix="abcd1234",
        secret_hash="00" * 32,
        name="ci",
        user="u",
        read_only=False,
    )


def test_revoking_a_key_records_one_revoked_event(api_key):
    api_key.revoke()

    created, revoked = api_key.collect_events()

    assert api_key.revoked is True
    assert type(revoked).__qualname__ == "ApiKey.Revoked"
    assert revoked.team == "acme"


def test_revoking_a_revoked_key_records_nothing_more(api_key):
    api_key.revoke()
    api_key.collect_events()

    api_key.revoke()

    assert api_key.collect_events() == []
    assert api_key.revoked is True


def test_a_new_key_is_not_revoked(api_key):
    assert api_key.revoked is False


# Deriving ids from natural keys is what makes "create" unique on the event store without a lookup table.
@pytest.mark.parametrize(
    "derive, same, different",
    [
        (team_id, ("acme",), ("other",)),
        (api_key_id, ("abcd1234",), ("abcd1235",)),
        (widget_channel_id, ("embed-key",), ("other-key",)),
        (participant_id, ("acme", "api", "jane"), ("acme", "api", "john")),
        (participant_id, ("acme", "api", "jane"), ("other", "api", "jane")),
        (participant_id, ("acme", "api", "jane"), ("acme", "widget", "jane")),
    ],
)
def test_derived_ids_are_stable_for_a_natural_key_and_differ_between_keys(derive, same, different):
    assert derive(*same) == derive(*same)
    assert derive(*same) != derive(*different)


def test_the_same_natural_key_of_different_kinds_gives_different_ids():
    assert team_id("x") != api_key_id("x") != widget_channel_id("x")
    assert derived_id("team", "x") == team_id("x")


def creations():
    """One freshly created aggregate of each kind not covered by its own test module."""
    return [
        Team(id=team_id("acme"), team="acme", name="Acme"),
        ApiKey(id=api_key_id("p"), team="acme", prefix="p", secret_hash="h", name="n", user="u", read_only=True),
        Participant(
            id=participant_id("acme", "api", "jane"),
            team="acme",
            identifier="jane",
            platform="api",
            name="",
            remote_id="",
            user=None,
        ),
        WidgetChannel(
            id=widget_channel_id("k"), team="acme", chatbot_id=str(uuid4()), allowed_domains=["*"], auth_level="none"
        ),
    ]


@pytest.mark.parametrize("aggregate", creations(), ids=lambda a: type(a).__name__)
def test_creating_an_aggregate_records_one_created_event_with_its_team(aggregate):
    (created,) = aggregate.collect_events()

    assert type(created).__qualname__ == f"{type(aggregate).__name__}.Created"
    assert created.team == aggregate.team == "acme"
    assert created.originator_version == 1


def test_utc_iso_renders_any_zone_as_utc_with_microseconds_and_z():
    instant = datetime(2030, 1, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))

    assert utc_iso(instant) == "2030-01-01T12:00:00.000005Z"
