"""The event contract: every event the write model can record has a published payload schema that matches it.

The event classes are discovered by walking command_api.domain, so a new event (or a new field) without a
payload schema fails here rather than at the relay.
"""

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import command_api.domain
from command_api.domain.base import OcsAggregate
from schemas.events import PAYLOADS, SCHEMA_VERSIONS, TOPICS

# What every event carries whatever its type: eventsourcing's own bookkeeping, and the team, which the
# envelope carries instead of the payload.
ENVELOPE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "team"}


def aggregate_classes() -> list[type]:
    found = []
    for module_info in pkgutil.iter_modules(command_api.domain.__path__):
        module = importlib.import_module(f"{command_api.domain.__name__}.{module_info.name}")
        found += [
            cls
            for cls in vars(module).values()
            if inspect.isclass(cls)
            and issubclass(cls, OcsAggregate)
            and cls is not OcsAggregate
            and cls.__module__ == module.__name__
        ]
    return found


def event_classes() -> list[type]:
    return [
        cls
        for aggregate in aggregate_classes()
        for name, cls in vars(aggregate).items()
        # eventsourcing gives every aggregate class its own `Event` base class; it is never triggered.
        if inspect.isclass(cls) and issubclass(cls, OcsAggregate.Event) and name != "Event"
    ]


def own_fields(event_class: type) -> set[str]:
    return {field.name for field in dataclasses.fields(event_class)} - ENVELOPE_FIELDS


EVENT_CLASSES = event_classes()
AGGREGATE_CLASSES = aggregate_classes()


def test_the_walk_finds_the_aggregates_and_their_events():
    # Guards the walk itself: an empty or partial walk would make the tests below pass vacuously.
    names = {cls.__qualname__ for cls in EVENT_CLASSES}
    assert {"Team", "ApiKey", "Chatbot", "WidgetChannel", "Participant", "ChatSession"} <= {
        cls.__name__ for cls in AGGREGATE_CLASSES
    }
    assert {"Team.Created", "ApiKey.Revoked", "Chatbot.VersionPublished", "ChatSession.MessagesAppended"} <= names
    assert "Team.Event" not in names


@pytest.mark.parametrize("aggregate", AGGREGATE_CLASSES, ids=lambda cls: cls.__name__)
def test_every_aggregate_type_has_a_topic(aggregate):
    # to_envelope refuses an event whose aggregate has no topic, so the relay would stop on it.
    assert aggregate.__name__ in TOPICS


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__qualname__)
def test_every_event_type_has_a_payload_schema_and_a_schema_version(event_class):
    assert event_class.__qualname__ in PAYLOADS
    assert SCHEMA_VERSIONS[event_class.__qualname__] >= 1


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__qualname__)
def test_a_payload_schema_publishes_exactly_the_events_own_fields(event_class):
    payload = PAYLOADS.get(event_class.__qualname__)
    assert payload is not None, f"no payload schema for {event_class.__qualname__}"
    # Top-level names only: the chatbot's `llm` is published without its `api_key`, by LlmConfig.
    assert set(payload().fields) == own_fields(event_class)


def test_every_payload_schema_belongs_to_an_event_that_exists():
    assert set(PAYLOADS) <= {cls.__qualname__ for cls in EVENT_CLASSES}


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__qualname__)
def test_every_event_carries_its_team(event_class):
    assert "team" in {field.name for field in dataclasses.fields(event_class)}


def test_the_llm_config_is_published_without_its_api_key(chatbot):
    chatbot.publish_version("v", "", False)

    for event in chatbot.collect_events():
        payload = PAYLOADS[type(event).__qualname__]().dump(event)
        assert "api_key" in event.llm and "api_key" not in payload["llm"]
