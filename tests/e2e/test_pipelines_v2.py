"""Pipelines in OCS's node vocabulary over HTTP: the node catalogue and the options its params take
(`/api/v2/pipeline/...`), a chatbot's whole configuration (`/api/v2/chatbots/{id}/inspect/`), a pipeline written in
the graph form answering chat messages and coming back the same through inspect, and pipelines of the earlier form,
recorded before the graph form existed, still answering."""

import json
import uuid

import pytest

from command_api import commands
from command_api.bus import CommandBus
from schemas.ids import model_number
from schemas.pipeline_nodes import NODE_TYPES, catalogue_entry
from schemas.read_models import CHATBOTS
from tests.e2e.test_pipelines import pipeline_chatbot, python_then_llm
from tests.stack import ChatClient, Client

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
PRODUCT_CODE = """
from python_node import get_session_state_key

def main(input, **kwargs):
    return f"{get_session_state_key('page_context.product')}: {input}"
"""


def graph_pipeline() -> dict:
    """Start -> CodeNode -> BooleanNode: `yes` -> template, anything else -> LLM -> end."""
    nodes = [
        ("start", "StartNode", {}),
        ("code", "CodeNode", {"code": PRODUCT_CODE}),
        ("check", "BooleanNode", {"input_equals": "Widget: yes", "tag_output_message": True}),
        ("thanks", "RenderTemplate", {"template_string": "Thanks, {{ participant_data.name or 'friend' }}!"}),
        ("answer", "LLMResponseWithPrompt", {"prompt": "You sell {session_state.page_context.product}."}),
        ("end", "EndNode", {}),
    ]
    edges = [
        ("start", "output", "code"),
        ("code", "output", "check"),
        ("check", "output_true", "thanks"),
        ("check", "output_false", "answer"),
        ("thanks", "output", "end"),
        ("answer", "output", "end"),
    ]
    return {
        "nodes": [{"node_id": n, "type": t, "label": n.title(), "params": p} for n, t, p in nodes],
        "edges": [{"source": s, "source_handle": h, "target": t} for s, h, t in edges],
    }


def answer_to(stack, chatbot: str, text: str) -> dict:
    chat = ChatClient(stack.base_url)
    chat.start(chatbot, page_context={"product": "Widget"})
    answered = chat.reply_to(chat.say(text))
    assert answered["status"] == "complete", answered
    return answered["message"]


def inspect(tenant, chatbot: str, version: str | None = None) -> dict:
    query = "" if version is None else f"?version={version}"
    response = tenant.client().get(f"/api/v2/chatbots/{chatbot}/inspect/{query}")
    assert response.status_code == 200, response.text
    return response.json()


def publish(stack, tmp_path, chatbot: str, pipeline: dict) -> int:
    path = tmp_path / f"{uuid.uuid4()}.json"
    path.write_text(json.dumps(pipeline))
    return stack.admin(f"publish-version --chatbot {chatbot} --make-default --pipeline {path}")["version_number"]


def test_the_node_catalogue_is_the_validators_node_types(tenant):
    client = tenant.client(tenant.read_only_key)
    listed = client.get("/api/v2/pipeline/nodes/")
    assert listed.status_code == 200
    assert listed.json() == [catalogue_entry(node_type) for node_type in NODE_TYPES.values()]
    assert [entry["type"] for entry in listed.json()][:4] == [
        "StartNode",
        "EndNode",
        "LLMResponseWithPrompt",
        "CodeNode",
    ]
    router = client.get("/api/v2/pipeline/nodes/RouterNode/").json()
    assert router["outputs"]["kind"] == "per_keyword" and router["outputs"]["handle_pattern"] == "output_{index}"
    assert {"prompt", "keywords", "llm_provider_id"} <= set(router["schema"]["properties"])
    # Static per deploy: a client revalidates it.
    unchanged = client.get("/api/v2/pipeline/nodes/", headers={"If-None-Match": listed.headers["ETag"]})
    assert unchanged.status_code == 304
    for path in ("/api/v2/pipeline/nodes/SendEmail/", "/api/v2/pipeline/options/llm/"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert missing.json() == {"detail": missing.json()["detail"], "valid_types": list(NODE_TYPES)}


def test_the_options_are_the_teams_providers_models_and_variables(stack, tenant, fake_llm):
    stack.admin(f"set-model-price --team {tenant.slug} --model priced-model --prompt 1 --completion 2")
    tenant.new_chatbot("Modelled", llm_base_url=fake_llm.base_url)  # answers with `fake-model`
    options = tenant.client(tenant.read_only_key).get("/api/v2/pipeline/options/").json()
    assert [(o["value"], o["type"]) for o in options["llm_provider_id"]] == [(1, "openai"), (2, "echo")]
    assert options["llm_provider_model_id"] == [
        {"value": model_number(name), "label": name, "type": "openai"} for name in ("fake-model", "priced-model")
    ]
    assert options["source_material"] == options["tools"] == options["collection_index"] == []
    assert [v["label"] for v in options["template_variables"]] == [
        "input",
        "session_state",
        "participant_data",
        "temp_state",
    ]
    assert options["default_llm_provider"] == {"llm_provider_id": None, "llm_provider_model_id": None}
    # Another team's models are not this team's.
    other = stack.new_tenant().client().get("/api/v2/pipeline/options/").json()
    assert other["llm_provider_model_id"] == []
    # One type's: only the keys its params use.
    llm = tenant.client().get("/api/v2/pipeline/options/LLMResponseWithPrompt/").json()
    assert set(llm) == {"llm_provider_id", "llm_provider_model_id", "llm_prompt_variables", "default_llm_provider"}
    assert set(tenant.client().get("/api/v2/pipeline/options/RouterNode/").json()) == {
        "llm_provider_id",
        "llm_provider_model_id",
        "router_prompt_variables",
        "default_llm_provider",
    }
    assert set(tenant.client().get("/api/v2/pipeline/options/RenderTemplate/").json()) == {"template_variables"}
    assert tenant.client().get("/api/v2/pipeline/options/CodeNode/").json() == {}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/chatbots/{chatbot}/inspect/",
        "/api/v2/pipeline/nodes/",
        "/api/v2/pipeline/nodes/CodeNode/",
        "/api/v2/pipeline/options/",
        "/api/v2/pipeline/options/CodeNode/",
    ],
)
def test_the_pipeline_reads_need_chatbots_read_and_a_role_that_views_chatbots(stack, tenant, path):
    path = path.format(chatbot=tenant.chatbot_id)
    assert Client(stack.base_url, None).get(path).status_code == 401
    assert tenant.bearer(tenant.machine_token("chatbots:read")).get(path).status_code == 200
    assert tenant.bearer(tenant.machine_token("sessions:read")).get(path).json() == FORBIDDEN
    viewer = stack.admin(f"create-api-key --team {tenant.slug} --role 'Chat Viewer'")["key"]
    assert Client(stack.base_url, viewer).get(path).json() == FORBIDDEN
    assert tenant.client(tenant.read_only_key).get(path).status_code == 200
    response = tenant.client().post(path, json={})
    assert response.status_code == 405


def test_inspect_shows_a_prompt_chatbot_its_channels_and_each_version(stack, tenant):
    tenant.widget(domains=("example.com",))
    stack.admin(f"create-channel --chatbot {tenant.chatbot_id} --platform telegram")
    working = inspect(tenant, tenant.chatbot_id)
    assert {key: working[key] for key in ("id", "name", "description", "version_number", "team_slug")} == {
        "id": tenant.chatbot_id,
        "name": "Support Bot",
        "description": "About Support Bot",
        "version_number": 1,
        "team_slug": tenant.slug,
    }
    assert (working["is_unreleased"], working["is_published_version"], working["version_description"]) == (
        True,
        False,
        "",
    )
    assert working["channels"] == [
        {
            "platform": "embedded_widget",
            "name": "",
            "messaging_provider": None,
            "allow_all_domains": False,
            "allowed_domains": ["example.com"],
        },
        {"platform": "telegram", "name": "", "messaging_provider": None},
    ]
    # What this server does not have is empty, never made up.
    assert (working["consent_form"], working["voice"], working["trace_provider"]) == (None, None, None)
    assert working["events"] == {"static_triggers": [], "timeout_triggers": []}
    assert (working["pipeline_valid"], working["unwired_handles"]) == (True, {})
    # A chatbot without a pipeline: the one LLM node its prompt amounts to.
    (llm,) = [node for node in working["pipeline"]["nodes"] if node["type"] == "LLMResponseWithPrompt"]
    assert llm["params"] == {"prompt": "You are a helpful assistant.", "history_type": "global"}
    assert (llm["llm"]["type"], llm["llm"]["model"], llm["llm"]["provider_id"]) == ("echo", "gpt-4o-mini", 2)
    assert [edge["source"] for edge in working["pipeline"]["graph"]["edges"]] == ["start", "llm"]
    # `default` is the working version while none is published; then the default, and numbers name versions.
    assert inspect(tenant, tenant.chatbot_id, "default") == working
    stack.admin(f"publish-version --chatbot {tenant.chatbot_id} --description first --make-default")
    first = inspect(tenant, tenant.chatbot_id, "1")
    assert (first["version_number"], first["is_published_version"], first["is_unreleased"]) == (1, True, False)
    assert first["version_description"] == "first"
    assert inspect(tenant, tenant.chatbot_id, "default") == first
    assert inspect(tenant, tenant.chatbot_id)["version_number"] == 2
    assert inspect(tenant, tenant.chatbot_id, "2")["is_unreleased"] is True
    client = tenant.client()
    for version in ("3", "0", "first", "1" * 30, "-1"):
        response = client.get(f"/api/v2/chatbots/{tenant.chatbot_id}/inspect/?version={version}")
        assert (response.status_code, response.json()) == (
            404,
            {"detail": f"Experiment with version {version} not found"},
        )
    # Another team's chatbot, an unknown one and a malformed id are not found.
    other = stack.new_tenant()
    for chatbot, text in ((other.chatbot_id, "No Experiment matches the given query."), (uuid.uuid4(), None)):
        response = client.get(f"/api/v2/chatbots/{chatbot}/inspect/")
        assert response.status_code == 404 and response.json() == {
            "detail": text or "No Experiment matches the given query."
        }
    assert client.get("/api/v2/chatbots/nope/inspect/").json() == {"detail": "Not found."}


def test_a_graph_form_pipeline_answers_and_round_trips_through_inspect(stack, tenant, tmp_path, fake_llm):
    chatbot = pipeline_chatbot(stack, tenant, tmp_path, graph_pipeline(), fake_llm.base_url)
    assert answer_to(stack, chatbot, "price?")["content"] == "echo: Widget: price?"
    (request,) = fake_llm.requests_containing("Widget: price?")
    assert request["messages"][0] == {"role": "system", "content": "You sell Widget."}
    yes = answer_to(stack, chatbot, "yes")
    assert yes["content"] == "Thanks, friend!" and "Check:true" in yes["tags"]

    shown = inspect(tenant, chatbot)["pipeline"]
    assert [node["node_id"] for node in shown["graph"]["nodes"]] == [
        "start",
        "code",
        "check",
        "thanks",
        "answer",
        "end",
    ]
    check = next(node for node in shown["nodes"] if node["node_id"] == "check")
    assert check["output_handles"] == [
        {"handle": "output_true", "label": "true"},
        {"handle": "output_false", "label": "false"},
    ]
    answer = next(node for node in shown["nodes"] if node["node_id"] == "answer")
    assert (answer["llm"]["type"], answer["llm"]["model"]) == ("openai", "m")
    # Fed back as inspect shows it, it records the same pipeline, which answers the same.
    assert publish(stack, tmp_path, chatbot, shown) == 1
    again = inspect(tenant, chatbot, "1")["pipeline"]
    assert (again["graph"], again["nodes"]) == (shown["graph"], shown["nodes"])
    assert answer_to(stack, chatbot, "price?")["content"] == "echo: Widget: price?"


def test_bad_graphs_are_refused_with_what_is_wrong(stack, tenant, tmp_path, fake_llm):
    pipeline = graph_pipeline()
    pipeline["edges"].pop(3)
    with pytest.raises(Exception, match="node 'check': output 'output_false' needs exactly one edge, has 0"):
        pipeline_chatbot(stack, tenant, tmp_path, pipeline, fake_llm.base_url)


def test_extract_participant_data_stores_what_the_llm_found(stack, tenant, tmp_path, fake_llm, monkeypatch):
    def extracting(request: dict) -> str:
        return '{"name": "Ana", "city": null}' if "Extract these fields" in request["messages"][0]["content"] else "?"

    monkeypatch.setattr(fake_llm, "reply", extracting)
    pipeline = {
        "nodes": [
            {"node_id": "start", "type": "StartNode", "params": {}},
            {
                "node_id": "who",
                "type": "ExtractParticipantData",
                "params": {"data_schema": json.dumps({"name": "first name", "city": "city"})},
            },
            {
                "node_id": "hi",
                "type": "RenderTemplate",
                "params": {"template_string": "Hi {{ participant_data.name }}"},
            },
            {"node_id": "end", "type": "EndNode", "params": {}},
        ],
        "edges": [
            {"source": "start", "target": "who"},
            {"source": "who", "target": "hi"},
            {"source": "hi", "target": "end"},
        ],
    }
    chatbot = pipeline_chatbot(stack, tenant, tmp_path, pipeline, fake_llm.base_url)
    chat = ChatClient(stack.base_url)
    chat.start(chatbot)
    assert chat.reply_to(chat.say("I am Ana"))["message"]["content"] == "Hi Ana"


def test_an_earlier_form_pipeline_recorded_before_the_graph_form_still_answers(stack, tenant, tmp_path, fake_llm):
    """Recorded as the earlier server recorded it (verbatim, unconverted): events are never rewritten."""
    recording = CommandBus(stack.system.app, check_pipeline=lambda pipeline: pipeline)
    created = recording.handle(
        commands.CreateChatbot(
            team=tenant.slug,
            name="Old",
            description="",
            prompt="p",
            provider="openai",
            model="m",
            base_url=fake_llm.base_url,
            llm_api_key="k",
            pipeline=python_then_llm(),
        )
    )
    stack.system.waiter.wait(CHATBOTS, created.body["id"], created.aggregate.version)
    chatbot = created.body["id"]
    chat = ChatClient(stack.base_url)
    chat.start(chatbot, page_context={"product_id": "P-1", "product_name": "Gizmo"})
    assert chat.reply_to(chat.say("hi"))["message"]["content"] == "echo: Question 1 about product P-1: hi"
    # Inspect shows it in the graph form, and that, fed back, answers the same.
    shown = inspect(tenant, chatbot)["pipeline"]
    assert [(n["node_id"], n["type"]) for n in shown["nodes"]] == [
        ("start", "StartNode"),
        ("lookup", "CodeNode"),
        ("answer", "LLMResponseWithPrompt"),
        ("end", "EndNode"),
    ]
    publish(stack, tmp_path, chatbot, shown)
    chat = ChatClient(stack.base_url)
    chat.start(chatbot, page_context={"product_id": "P-2", "product_name": "Gizmo"})
    assert chat.reply_to(chat.say("hi"))["message"]["content"] == "echo: Question 1 about product P-2: hi"
    # And the earlier form is still taken as input.
    assert publish(stack, tmp_path, chatbot, python_then_llm()) == 2


def test_a_read_model_without_the_configuration_asks_for_a_rebuild(stack, tenant):
    """Read models built before versions' configurations were kept: inspect says so rather than failing."""
    stack.system.db[CHATBOTS].update_one({"_id": tenant.chatbot_id}, {"$unset": {"llm": ""}})
    response = tenant.client().get(f"/api/v2/chatbots/{tenant.chatbot_id}/inspect/")
    assert response.status_code == 503 and "rebuild-read-models" in response.json()["detail"]
