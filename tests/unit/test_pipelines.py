"""Pipelines: what a valid one is, and how a run walks its nodes (the LLM here is the offline `echo`)."""

import copy
import itertools

import pytest

from workers.llm import LlmClients
from workers.pipelines.definition import PipelineError, validate_pipeline
from workers.pipelines.engine import PipelineEngine

ECHO = {"provider": "echo", "model": "m", "base_url": None}


def linear(*middle: dict) -> dict:
    nodes = [{"id": "start", "type": "start"}, *middle, {"id": "end", "type": "end"}]
    ids = [node["id"] for node in nodes]
    return {"nodes": nodes, "edges": [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]}


def routed() -> dict:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "router",
                "type": "static_router",
                "data_source": "session_state",
                "key": "page_context.section",
                "routes": ["billing", "other"],
                "default": "other",
            },
            {"id": "billing", "type": "render_template", "template": "Billing: {input}"},
            {"id": "other", "type": "render_template", "template": "General: {input}"},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"from": "start", "to": "router"},
            {"from": "router", "to": "billing", "route": "billing"},
            {"from": "router", "to": "other", "route": "other"},
            {"from": "billing", "to": "end"},
            {"from": "other", "to": "end"},
        ],
    }


def run(pipeline: dict, text: str = "hi", state: dict | None = None, data: dict | None = None):
    validate_pipeline(pipeline)
    return PipelineEngine(LlmClients(5, 1)).run(pipeline, ECHO, text, [], state or {}, data or {})


def test_a_template_renders_state_participant_data_and_input():
    pipeline = linear(
        {
            "id": "t",
            "type": "render_template",
            "template": "{input} for {participant_data.name} on {session_state.page_context.product}",
        }
    )
    outcome = run(pipeline, "Hello", {"page_context": {"product": "Widget"}}, {"name": "Ana"})
    assert outcome.reply == "Hello for Ana on Widget"
    assert [step["id"] for step in outcome.trace] == ["start", "t"]


@pytest.mark.parametrize("section, reply", [("billing", "Billing: hi"), ("shop", "General: hi"), (None, "General: hi")])
def test_a_static_router_routes_on_a_state_key(section, reply):
    state = {"page_context": {"section": section}} if section else {}
    assert run(routed(), state=state).reply == reply


def test_an_llm_router_picks_the_route_the_llm_names():
    pipeline = routed()
    pipeline["nodes"][1] = {
        "id": "router",
        "type": "llm_router",
        "prompt": "Which team?",
        "routes": ["billing", "other"],
        "default": "other",
    }
    # The echo LLM answers with the user's message: the message names the route.
    assert run(pipeline, "billing").reply == "Billing: billing"
    assert run(pipeline, "no idea").reply == "General: no idea"


def test_an_llm_node_answers_its_input():
    assert run(linear({"id": "bot", "type": "llm", "prompt": "Be brief."}), "ping").reply == "ping"


def test_python_node_reads_page_context_and_its_effects_come_back():
    code = """
from python_node import get_session_state_key, set_session_state_key, set_participant_data_key, add_session_tag

def main(input, **kwargs):
    product = get_session_state_key("page_context.product_id")
    set_session_state_key("last_product", product)
    set_participant_data_key("seen", product)
    add_session_tag("shopper")
    return f"Product {product}: {input}"
"""
    outcome = run(
        linear({"id": "py", "type": "python", "code": code}), "price?", {"page_context": {"product_id": "X1"}}
    )
    assert outcome.reply == "Product X1: price?"
    assert outcome.session_state == {"page_context": {"product_id": "X1"}, "last_product": "X1"}
    assert outcome.participant_data == {"seen": "X1"}
    assert outcome.session_tags == ["shopper"]


def test_abort_with_message_is_the_reply_and_nothing_after_runs():
    code = """
from python_node import abort_with_message

def main(input, **kwargs):
    abort_with_message("Not today", tag_name="aborted")
    return "unreachable"
"""
    pipeline = linear(
        {"id": "py", "type": "python", "code": code}, {"id": "after", "type": "render_template", "template": "no"}
    )
    outcome = run(pipeline)
    assert outcome.reply == "Not today" and outcome.message_tags == ["aborted"]
    assert [step["id"] for step in outcome.trace] == ["start", "py"]


def broken(change) -> dict:
    pipeline = copy.deepcopy(routed())
    change(pipeline)
    return pipeline


@pytest.mark.parametrize(
    "pipeline, problem",
    [
        ([], "a pipeline is an object"),
        ({"nodes": []}, 'an "edges" list'),
        (broken(lambda p: p["nodes"].append({"id": "x", "type": "teleport"})), "node 'x': unknown type"),
        (broken(lambda p: p["nodes"][2].pop("template")), "node 'billing': 'template' is required"),
        (broken(lambda p: p["nodes"].append({"id": "start", "type": "end"})), "node 'start': the id is used twice"),
        (broken(lambda p: p["edges"].append({"from": "end", "to": "nowhere"})), "there is no node 'nowhere'"),
        (broken(lambda p: p["edges"].pop(1)), "node 'router': a router needs exactly one edge for each of its routes"),
        (broken(lambda p: p["nodes"][1].update(default="x")), "node 'router': the default route 'x'"),
        (broken(lambda p: p["nodes"][1].update(data_source="cookies")), "node 'router': 'data_source'"),
        (broken(lambda p: p["edges"][3].update(to="router")), "loops back"),
        (
            broken(lambda p: p["nodes"].insert(2, {"id": "lonely", "type": "render_template", "template": "x"})),
            "node 'lonely': needs exactly one outgoing edge",
        ),
        (
            linear({"id": "py", "type": "python", "code": "def helper():\n    return 1\n"}),
            "node 'py':",
        ),
        (
            linear({"id": "py", "type": "python", "code": "import os\ndef main(input, **kwargs):\n    return ''"}),
            "node 'py':",
        ),
    ],
)
def test_invalid_pipelines_are_refused_naming_the_node_and_the_problem(pipeline, problem):
    with pytest.raises(PipelineError, match=problem.replace("(", r"\(")):
        validate_pipeline(pipeline)
