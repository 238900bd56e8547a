"""Our AsyncAPI document: valid by the AsyncAPI project's own parser, the same event types and fields as
docs/events.md, exactly the messages each channel carries, and served beside the OpenAPI document."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.docs import create_docs_app
from schemas.asyncapi import asyncapi_document
from schemas.events import NOT_IN_FEED, PAYLOADS, TOPICS

ROOT = Path(__file__).parents[2]
PARSER = ROOT / "tests" / "asyncapi"
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def document() -> dict:
    return asyncapi_document()


def parser_version() -> str:
    return json.loads((PARSER / "node_modules" / "@asyncapi" / "parser" / "package.json").read_text())["version"]


def test_the_asyncapi_parser_finds_no_error_in_the_document(document):
    if NODE is None:
        pytest.skip("node is not installed: the AsyncAPI parser runs on node (and `make test` installs it with npm)")
    if not (PARSER / "node_modules" / "@asyncapi" / "parser").exists():
        pytest.skip("@asyncapi/parser is not installed: `make test` runs npm ci in tests/asyncapi (npm is missing?)")
    run = subprocess.run(
        [NODE, "validate.js"], cwd=PARSER, input=json.dumps(document), capture_output=True, text=True, timeout=120
    )
    # Warnings and hints are printed, for whoever reads the output; errors fail.
    print(f"@asyncapi/parser {parser_version()} on node {subprocess.check_output([NODE, '--version'], text=True)}")
    print(run.stdout, run.stderr)
    assert run.returncode == 0, run.stdout + run.stderr


def documented_fields() -> dict[str, list[str]]:
    """Each event type docs/events.md lists, with the fields of its table."""
    sections = re.split(r"^### ", (ROOT / "docs" / "events.md").read_text(), flags=re.M)
    found = {}
    for section in sections:
        heading = re.match(r"`([A-Za-z]+\.[A-Za-z]+)` \(schema version", section)
        if heading:
            table = section.split("\n## ", 1)[0]  # the last type's section ends where the next chapter begins
            found[heading.group(1)] = re.findall(r"^\| `([^`]+)` \|", table, flags=re.M)
    return found


def test_the_document_and_docs_events_md_list_the_same_event_types_with_the_same_fields(document):
    schemas = document["components"]["schemas"]
    described = {}
    for name, message in document["components"]["messages"].items():
        if name not in PAYLOADS:  # the dead letters and the reply deltas are not events
            continue
        envelope = schemas[message["payload"]["$ref"].rsplit("/", 1)[-1]]
        payload = schemas[envelope["properties"]["data"]["$ref"].rsplit("/", 1)[-1]]
        described[name] = list(payload.get("properties", {}))
    documented = documented_fields()
    assert len(documented) == len(PAYLOADS)
    assert described == documented


def test_the_envelope_has_the_fields_docs_events_md_lists(document):
    text = (ROOT / "docs" / "events.md").read_text()
    table = text.split("## The envelope", 1)[1].split("## ", 1)[0]
    envelope = document["components"]["schemas"]["ChatSession.Created"]
    assert list(envelope["properties"]) == re.findall(r"^\| `([^`]+)` \|", table, flags=re.M)
    assert envelope["properties"]["type"]["const"] == "ChatSession.Created"


def channel_messages(document: dict, channel: str) -> set[str]:
    return set(document["channels"][channel]["messages"])


def test_each_topic_carries_the_events_of_the_aggregates_published_to_it(document):
    for event_type in PAYLOADS:
        topic = TOPICS[event_type.split(".")[0]]
        assert document["channels"][topic]["address"] == topic
        assert event_type in channel_messages(document, topic)
    on_topics = [name for topic in set(TOPICS.values()) for name in channel_messages(document, topic)]
    assert sorted(on_topics) == sorted(PAYLOADS)


def test_the_feed_stream_and_webhooks_carry_every_team_event_and_no_credentials(document):
    team_events = {name for name in PAYLOADS if name.split(".")[0] not in NOT_IN_FEED}
    assert "ChatSession.Created" in team_events and "ApiKey.Created" not in team_events
    for channel in ("eventFeed", "eventStream", "webhookDeliveries"):
        assert channel_messages(document, channel) == team_events, channel
    assert document["channels"]["eventFeed"]["address"] == "/api/events/"
    assert document["channels"]["eventStream"]["address"] == "/api/events/stream/"
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        assert {ref["$ref"].rsplit("/", 1)[-1] for ref in operation["messages"]} == channel_messages(document, channel)


def test_webhook_deliveries_are_signed_posts_of_the_envelope(document):
    delivery = document["operations"]["deliverWebhooks"]
    assert delivery["bindings"]["http"]["method"] == "POST"
    message = document["channels"]["webhookDeliveries"]["messages"]["ChatSession.Created"]
    assert message["payload"] == {"$ref": "#/components/schemas/ChatSession.Created"}
    headers = document["components"]["schemas"][message["headers"]["$ref"].rsplit("/", 1)[-1]]
    assert set(headers["required"]) == {
        "Content-Type",
        "X-OCS-Event-Id",
        "X-OCS-Subscription-Id",
        "X-OCS-Timestamp",
        "X-OCS-Signature",
    }


def test_the_document_is_served_under_api_and_api_v1_without_credentials(document):
    client = create_docs_app({}, document, {}).test_client()
    for path in ("/api/events/asyncapi.json", "/api/v1/events/asyncapi.json"):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.get_json() == json.loads(json.dumps(document))
