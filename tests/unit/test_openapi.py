"""Our OpenAPI document (SPEC §9.5): valid OpenAPI 3, a superset of OCS's own schema, generated from the schemas
that validate requests, covering every route the apps serve, and served with a browsable UI."""

import copy
import inspect
import itertools
import json
import re
import warnings
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from command_api import commands
from command_api.http import app as command_app
from command_api.http import documents
from infra import health, metrics
from infra.docs import DOCS_PATHS, PAGE, create_docs_app
from infra.wiring.bootstrap import api_routes
from projectors.projections import writes_for
from query_api.http import app as query_app
from schemas import representations
from schemas.openapi.document import OPENAPI_VERSION, TITLE, Route, openapi_document, openapi_v2_document
from schemas.read_models import MESSAGES, stored_json
from schemas.requests import (
    PLATFORMS,
    USAGE_METRICS,
    ApiMessageRequest,
    ChatMessageRequest,
    ChatStartRequest,
    ParticipantUpsertRequest,
    SessionCreateRequest,
    TriggerBotRequest,
)
from tests.unit.openapi_parity import missing_request_properties, operations
from workers.pipelines.definition import validate_pipeline

REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "ocs-api-v1.yml"


@pytest.fixture(scope="module")
def document() -> dict:
    return openapi_document(api_routes())


@pytest.fixture(scope="module")
def v2_document() -> dict:
    return openapi_v2_document(api_routes())


@pytest.fixture(scope="module")
def reference() -> dict:
    if not REFERENCE.exists():
        pytest.skip(f"OCS's schema is not at {REFERENCE} (it lives in the shared folder beside the repository)")
    return yaml.safe_load(REFERENCE.read_text())


def test_the_document_is_a_valid_openapi_3_document(document):
    validate(document)
    assert document["openapi"] == OPENAPI_VERSION == "3.0.3"
    assert document["info"]["title"] == TITLE


def test_the_document_builds_without_apispec_warnings():
    """An unmapped field type or two schemas with one name would warn; the document would then be wrong."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        openapi_document(api_routes())


def test_every_operation_of_ocs_schema_is_documented_with_its_operation_id(reference, document):
    ours = {(path, method): operation["operationId"] for path, method, operation in operations(document)}
    theirs = {(path, method): operation["operationId"] for path, method, operation in operations(reference)}
    assert len(theirs) == 22  # the 19 paths of SPEC §0.1, three of them with two methods
    assert {key: ours.get(key) for key in theirs} == theirs


def test_every_request_property_of_ocs_schema_is_documented(reference, document):
    assert missing_request_properties(reference, document, operations(reference)) == []


def test_every_response_status_of_ocs_schema_is_documented(reference, document):
    missing = [
        f"{method.upper()} {path}: {status}"
        for path, method, operation in operations(reference)
        for status in operation["responses"]
        if status not in document["paths"][path][method]["responses"]
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("path", "method", "schema"),
    [
        ("/api/sessions/", "post", SessionCreateRequest),
        ("/api/participants", "post", ParticipantUpsertRequest),
        ("/api/chat/start/", "post", ChatStartRequest),
        ("/api/chat/{session_id}/message/", "post", ChatMessageRequest),
        ("/channels/api/{experiment_id}/incoming_message", "post", ApiMessageRequest),
        ("/channels/api/{experiment_id}/v{version}/incoming_message", "post", ApiMessageRequest),
        ("/api/trigger_bot", "post", TriggerBotRequest),
    ],
)
def test_request_bodies_are_documented_from_the_schemas_that_validate_them(document, path, method, schema):
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{schema.__name__}"}
    component = document["components"]["schemas"][schema.__name__]
    fields = schema().fields.values()
    assert set(component["properties"]) == {field.data_key or field.name for field in fields}
    assert set(component["required"]) == {field.data_key or field.name for field in fields if field.required}


def test_our_validating_fields_are_documented_as_their_openapi_types(document):
    schemas = document["components"]["schemas"]
    session = schemas["SessionCreateRequest"]["properties"]
    assert session["experiment"] == {"type": "string", "format": "uuid"}
    assert session["participant"] == {"type": "string", "default": None, "nullable": True, "maxLength": 320}
    assert session["state"] == {"type": "object", "additionalProperties": {}}
    assert session["messages"] == {"type": "array", "items": {"$ref": "#/components/schemas/MessageInput"}}
    assert schemas["MessageInput"]["properties"]["role"] == {"type": "string", "enum": ["system", "user", "assistant"]}
    assert schemas["ParticipantUpsertRequest"]["properties"]["platform"]["enum"] == list(PLATFORMS)
    schedule = schemas["ParticipantSchedule"]["properties"]
    assert schedule["date"]["type"] == "string" and schedule["date"]["format"] == "date-time"
    assert schedule["delete"] == {"type": "boolean", "default": False}
    message = schemas["ChatMessageRequest"]["properties"]
    assert message["attachment_ids"] == {"type": "array", "items": {"type": "integer"}}
    assert message["version_number"] == {"type": "integer", "default": None, "nullable": True}


def test_every_property_of_every_schema_has_a_type_or_says_it_takes_any_json(document):
    untyped = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, prop in schema.get("properties", {}).items()
        if not {"type", "$ref", "allOf", "anyOf", "oneOf"} & set(prop)
    ]
    # Session state is any JSON, as in OCS's schema.
    assert sorted(untyped) == [
        "ExperimentSession.state",
        "ExperimentSessionWithMessages.state",
        "SessionStateUpdated.state",
    ]


def strict(document: dict) -> dict:
    """The document's schemas, refusing properties they do not list: rendering one more field must fail."""
    components = copy.deepcopy(document["components"])
    for schema in components["schemas"].values():
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return components


# Renderers that are not a body of their own: URLs inside bodies, and the streamed chunks of a completion (documented
# as an event stream whose objects the non-streamed completion's test covers field by field).
# Not response bodies of their own: URLs, and what streams send (server-sent events, each JSON).
NOT_BODIES = {
    "experiment_url",
    "chatbot_url",
    "session_url",
    "file_url",
    "completion_chunk",
    "completion_usage_chunk",
    "response_output_message",
    "output_text",
    "response_stream_event",
    "streamed_message",
    "reply_delta",
    "inspected_channel",
}


def every_node_type() -> dict:
    """A pipeline with a node of every type, each handle led to the end."""
    schema = '{"name": "a name"}'
    middle = [
        ("llm", "LLMResponseWithPrompt", {"prompt": "p", "tag": "t"}),
        ("code", "CodeNode", {"code": "def main(input, **kwargs):\n    return input\n"}),
        ("tpl", "RenderTemplate", {"template_string": "{{ input }}"}),
        ("data", "ExtractStructuredData", {"data_schema": schema}),
        ("who", "ExtractParticipantData", {"data_schema": schema, "key_name": "k"}),
        ("static", "StaticRouterNode", {"data_source": "temp_state", "route_key": "k", "keywords": ["a", "b"]}),
        ("router", "RouterNode", {"prompt": "p", "keywords": ["x"]}),
        ("bool", "BooleanNode", {"input_equals": "yes"}),
    ]
    nodes = [("start", "StartNode", {}), *middle, ("end", "EndNode", {})]
    edges = [(a[0], "output", b[0]) for a, b in itertools.pairwise(nodes[:7])]
    edges += [("static", "output_0", "router"), ("static", "output_1", "end"), ("router", "output_0", "bool")]
    edges += [("bool", "output_true", "end"), ("bool", "output_false", "end")]
    return {
        "nodes": [{"node_id": n, "type": t, "label": n, "params": p} for n, t, p in nodes],
        "edges": [{"source": s, "source_handle": h, "target": t} for s, h, t in edges],
    }


def test_every_response_body_is_rendered_by_one_function_that_matches_its_documented_schema(
    document, v2_document, bus, app, create_session, chatbot_id
):
    """What each function of `schemas/representations.py` renders, from a chatbot with a version, a session with a
    message, and a participant with data, has exactly the fields and types of its documented schema (v1's document
    or v2's)."""
    bus.handle(commands.PublishVersion(chatbot_id, "first", make_default=True))
    created = create_session(messages=({"role": "user", "content": "hi"},), state={"a": [1]}, page_context={"p": 1})
    upserted = bus.handle(
        commands.UpsertParticipant(
            team=created.team.team,
            caller=None,
            identifier="jane",
            platform="api",
            name="Jane",
            entries=(commands.ParticipantEntry(chatbot_id, {"tz": "UTC"}, ()),),
        )
    )
    messages = [
        op._doc for envelope in app.all_envelopes() for collection, op in writes_for(envelope) if collection == MESSAGES
    ]
    base = "http://testserver/"
    chatbot = documents.chatbot_document(created.chatbot)
    team = documents.team_document(created.team)
    session = documents.session_document(created.session, "jane", "")
    participant = documents.participant_document(upserted.participant)
    session_id = session["_id"]
    uploaded = {"file_id": 7, "name": "notes.txt", "size": 3, "content_type": "text/plain"}
    kept_response = {
        "_id": session_id,
        "task_id": session_id,
        "created_at": 1_700_000_000,
        "model": "gpt-x",
        "status": "completed",
        "error": None,
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        "metadata": [["k", "v"]],
        "previous_response_id": session_id,
        "instructions": "be brief",
        "store": True,
    }
    failed_response = {**kept_response, "status": "failed", "error": "no reply", "usage": None}
    prompted = {"prompt": "Be kind.", "provider": "openai", "model": "m", "pipeline": None}
    piped = {**prompted, "pipeline": stored_json(validate_pipeline(every_node_type()))}
    channels = [{"allowed_domains": ["*"]}, {"platform": "telegram"}]
    rendered = [
        ("Experiment", representations.experiment, (chatbot, base)),
        ("ExperimentStub", representations.experiment_stub, (chatbot, base)),
        ("Team", representations.team, (team,)),
        ("Message", representations.message, (messages[0], base)),
        ("ExperimentSession", representations.session, (session, chatbot, team, base)),
        (
            "ExperimentSessionWithMessages",
            representations.session_with_messages,
            (session, chatbot, team, messages, base),
        ),
        ("ParticipantDetail", representations.participant_detail, (participant, {chatbot_id: chatbot})),
        ("SessionTags", representations.session_tags, (["vip"],)),
        ("SessionStateUpdated", representations.session_state, ({"a": [1]},)),
        ("TriggerBotMessageResponse", representations.bot_triggered, (session_id, team, "whatsapp", base)),
        ("ChatStartSessionResponse", representations.chat_started, (session_id, "a-token", chatbot, participant, base)),
        ("ChatStartSessionResponse", representations.chat_started, (session_id, None, chatbot, participant, base)),
        ("ChatUploadFileResponse", representations.files_uploaded, ([uploaded],)),
        ("ChatSendMessageResponse", representations.message_accepted, ("a-task",)),
        ("ChatTaskCancelling", representations.task_cancelling, ("a-task",)),
        ("ChatPollResponse", representations.messages_poll, (messages, False, "complete", base)),
        ("ChatTaskPoll", representations.task_poll, (messages[0], base)),
        ("ChatTaskPoll", representations.task_poll, (None, base)),
        ("CreateChatCompletionResponse", representations.completion, (session_id, 1_700_000_000, "hello")),
        ("ApiResponseMessage", representations.api_reply, ("hello", session_id)),
        ("ModelResponse", representations.model_response, (kept_response, "hello")),
        ("ModelResponse", representations.model_response, ({**kept_response, "status": "in_progress"}, None)),
        ("ModelResponse", representations.model_response, (failed_response, None)),
        ("ResponseInputItemList", representations.response_input_items, (messages, False)),
        ("ResponseInputItemList", representations.response_input_items, ([], False)),
        ("ResponseDeleted", representations.response_deleted, (session_id,)),
        ("ConsentRequest", representations.consent_request, ("c1", "App", "acme", "u@acme", ["sessions:read"], base)),
        ("EventPage", representations.event_page, (list(app.all_envelopes())[:3], 0)),
        ("EventPage", representations.event_page, ([], 42)),
        (
            "CookieSession",
            representations.cookie_session,
            ("acme", "u@acme", False, "2026-12-06T10:00:00.000000Z", "a" * 64),
        ),
        (
            "CookieSession",
            representations.cookie_session,
            ("acme", None, True, "2026-12-06T10:00:00.000000Z", "a" * 64),
        ),
    ]
    counts = {"human": 2, "ai": 1, "sessions": 1, "participants": 1, "prompt": 9, "completion": 4, "total": 13}
    counts |= {"cost": Decimal("0.0000123"), "currency": "USD"}
    july, august = datetime(2026, 7, 1, tzinfo=timezone.utc), datetime(2026, 8, 1, tzinfo=timezone.utc)
    period = representations.usage_period(july, august, "UTC")
    blocks = representations.usage_metrics(counts, USAGE_METRICS)
    bucket = {"bucket_start": july.isoformat(), **blocks}
    jane = {"public_id": participant["_id"], "identifier": "jane", "platform": "api"}
    platform_row = representations.usage_row("platform", "web", None, blocks)
    links = {"count": 1, "next": None, "previous": None}
    rendered_v2 = [
        ("Chatbot", representations.chatbot, (chatbot, base)),
        ("Me", representations.me, ("u@acme", 7, team)),
        ("ChatbotInspect", representations.chatbot_inspect, ({**chatbot, "team": "acme"}, 2, "", piped, channels)),
        ("ChatbotInspect", representations.chatbot_inspect, ({**chatbot, "team": "acme"}, 1, "first", prompted, [])),
        ("TriggerBotMessageResponse", representations.bot_triggered_v2, (session_id, team, "whatsapp", base)),
        ("UsageResults", representations.usage_metrics, (counts, USAGE_METRICS)),
        ("UsagePeriod", representations.usage_period, (july, august, "UTC")),
        ("UsageResponse", representations.usage_report, (period, "total", blocks)),
        ("UsageTimeseriesResponse", representations.usage_report, (period, "daily", [bucket])),
        ("GroupedUsageRow", representations.usage_row, ("participant", jane, july, blocks)),
        ("GroupedUsageRow", representations.usage_row, ("chatbot", {"public_id": chatbot_id, "name": "Bot"}, None, {})),
        ("GroupedUsageRow", representations.usage_row, ("platform", "web", None, blocks)),
        ("GroupedUsageResponse", representations.grouped_usage, (period, "platform", [platform_row], links)),
    ]
    bodies = {name: render(*arguments) for name, render, arguments in rendered}
    assert messages and bodies["Experiment"]["versions"] and bodies["ParticipantDetail"]["data"]
    for listed, components in ((rendered, strict(document)), (rendered_v2, strict(v2_document))):
        for name, render, arguments in listed:
            schema = {"$ref": f"#/components/schemas/{name}", "components": components}
            OAS30Validator(schema).validate(render(*arguments))
    renderers = {name for name, value in vars(representations).items() if inspect.isfunction(value)}
    assert renderers - NOT_BODIES == {render.__name__ for _, render, _ in rendered + rendered_v2}


def served_operations(*apps) -> set[tuple[str, str]]:
    """(path with anonymous parameters, method) of every route; `/api/v1/` aliases and legacy aliases left out."""
    served = set()
    for app in apps:
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or rule.endpoint.endswith("_alias") or rule.rule.startswith("/api/v1/"):
                continue
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((re.sub(r"<[^>]+>", "{}", rule.rule), method.lower()))
    return served


def test_every_route_the_apps_serve_is_documented_once_and_nothing_else(document, v2_document):
    """In v1's document, or, for the routes under `/api/v2/`, in v2's."""
    apps = (
        command_app.create_app(None, None, None, None, None, None, None, None),
        query_app.create_app(*[None] * 8),
        health.create_app({}, dict),
        metrics.create_app(None),
        create_docs_app({}, {}, {}),
    )
    anonymous = lambda path: re.sub(r"\{[^}]+\}", "{}", path)  # noqa: E731
    documented = {(anonymous(path), method) for path, method, _ in operations(document)}
    documented_v2 = {(anonymous(path), method) for path, method, _ in operations(v2_document)}
    assert {path for path, _ in documented_v2} and all(path.startswith("/api/v2/") for path, _ in documented_v2)
    assert not {path for path, _ in documented if path.startswith("/api/v2/")}
    assert served_operations(*apps) == documented | documented_v2


def test_a_route_without_text_or_text_without_a_route_fails_the_build():
    routes = api_routes()
    with pytest.raises(ValueError, match="routes without text: \\['session_archive'\\]"):
        openapi_document([*routes, Route("/api/sessions/<session_id>/archive/", "session_archive", "POST")])
    with pytest.raises(ValueError, match="text without a route: \\['session_end'\\]"):
        openapi_document([route for route in routes if route.endpoint != "session_end"])


def test_a_path_is_named_by_its_operations_path_parameters():
    routes = [route for route in api_routes() if route.endpoint != "session_end"]
    documented = openapi_document(
        [*routes, Route("/api/sessions/<session_id>/end_experiment_session/", "session_end", "POST")]
    )
    assert "post" in documented["paths"]["/api/sessions/{id}/end_experiment_session/"]
    with pytest.raises(ValueError, match="path parameters"):
        openapi_document([*routes, Route("/api/sessions/<a>/<b>/end_experiment_session/", "session_end", "POST")])


def test_each_versions_schema_is_served_as_json_without_credentials(document, v2_document):
    client = create_docs_app(document, {}, v2_document).test_client()
    for served, urls in ((document, ("/api/schema/", "/api/schema/?format=json")), (v2_document, ("/api/v2/schema/",))):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200
            assert response.mimetype == "application/json"
            assert response.get_json() == json.loads(json.dumps(served))
    assert client.get("/api/v2/schema/?format=xml").status_code == 404


def test_an_unknown_schema_format_is_not_found(document):
    response = create_docs_app(document, {}, {}).test_client().get("/api/schema/?format=xml")
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Not found."}


def test_the_docs_page_and_its_assets_are_served_from_this_app_alone(document):
    client = create_docs_app(document, {}, {}).test_client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert '{url: "../schema/", name: "v1"}, {url: "../v2/schema/", name: "v2"}' in page.get_data(as_text=True)
    # Nothing is fetched from another host: the UI works without internet access.
    assert "//" not in PAGE
    for path, mimetype in (
        ("/api/docs/swagger-ui.css", "text/css"),
        ("/api/docs/swagger-ui-bundle.js", "text/javascript"),
    ):
        asset = client.get(path)
        assert asset.status_code == 200
        assert asset.mimetype == mimetype
        assert len(asset.data) > 10_000
    assert {
        "/api/schema/",
        "/api/v2/schema/",
        "/api/docs/",
        "/api/docs/swagger-ui.css",
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/swagger-ui-standalone-preset.js",
        "/api/events/asyncapi.json",
        "/api/v1/events/asyncapi.json",
    } == set(DOCS_PATHS)


def test_an_unchanged_document_is_revalidated_not_downloaded_again(document):
    client = create_docs_app(document, {}, {}).test_client()
    etag = client.get("/api/schema/").headers["ETag"]
    assert client.get("/api/schema/", headers={"If-None-Match": etag}).status_code == 304
