"""Pipelines: what a valid one is, in the graph form and the earlier one, and how a run walks its nodes (the LLM
here is the offline `echo`, or a stand-in answering what a test needs)."""

import copy
import itertools
import json

import jsonschema
import pytest

from schemas.ids import model_number
from schemas.pipeline_graph import in_graph_form
from schemas.pipeline_nodes import MAX_TEXT_CHARS, NODE_TYPES, catalogue_entry
from workers.llm import LlmClients, LlmReply
from workers.pipelines.definition import MAX_NODES, MAX_PIPELINE_CHARS, PipelineError, validate_pipeline
from workers.pipelines.engine import PipelineEngine
from workers.pipelines.templates import TemplateFailure

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
    return PipelineEngine(LlmClients(5, 1)).run(validate_pipeline(pipeline), ECHO, text, [], state or {}, data or {})


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


def graph(*middle: dict) -> dict:
    """A pipeline in the graph form running its nodes in a row; a node is (node_id, type, params)."""
    nodes = [("start", "StartNode", {}), *middle, ("end", "EndNode", {})]
    return {
        "nodes": [
            {"node_id": node_id, "type": kind, "label": node_id, "params": params} for node_id, kind, params in nodes
        ],
        "edges": [
            {"id": f"e{n}", "source": a[0], "target": b[0], "source_handle": "output", "target_handle": None}
            for n, (a, b) in enumerate(itertools.pairwise(nodes))
        ],
    }


def branches(router: tuple, handles: tuple[str, ...]) -> dict:
    """A router whose every handle leads to a template naming it, then to the end."""
    pipeline = graph(router)
    pipeline["edges"] = [pipeline["edges"][0]]
    for handle in handles:
        pipeline["nodes"].insert(-1, node(handle, "RenderTemplate", template_string=f"{handle}: {{{{ input }}}}"))
        pipeline["edges"] += [
            {"source": router[0], "target": handle, "source_handle": handle},
            {"source": handle, "target": "end"},
        ]
    return pipeline


def node(node_id: str, kind: str, **params) -> dict:
    return {"node_id": node_id, "type": kind, "label": node_id, "params": params}


class Answering:
    """An LLM that answers every call with `answer`, and keeps the calls."""

    def __init__(self, answer: str):
        self.answer = answer
        self.calls = []

    def reply(self, call, listener=None) -> LlmReply:
        self.calls.append(call)
        return LlmReply(self.answer)


def run_with(llm, pipeline: dict, text: str, data: dict | None = None):
    return PipelineEngine(llm).run(validate_pipeline(pipeline), ECHO, text, [], {}, data or {})


def test_a_graph_form_pipeline_runs_its_nodes_in_ocs_vocabulary():
    pipeline = graph(
        ("tpl", "RenderTemplate", {"template_string": "{{ input }} from {{ participant_data.name }}", "tag": "t"}),
        ("bot", "LLMResponseWithPrompt", {"prompt": "Be brief."}),
    )
    outcome = PipelineEngine(LlmClients(5, 1)).run(validate_pipeline(pipeline), ECHO, "Hi", [], {}, {"name": "Ana"})
    assert outcome.reply == "Hi from Ana"
    assert outcome.message_tags == ["t"]
    assert [(step["id"], step["type"]) for step in outcome.trace] == [
        ("start", "StartNode"),
        ("tpl", "RenderTemplate"),
        ("bot", "LLMResponseWithPrompt"),
    ]


def test_the_earlier_form_is_converted_to_the_graph_form():
    converted = validate_pipeline(routed())
    router = converted["nodes"][1]
    assert router == {
        "node_id": "router",
        "type": "StaticRouterNode",
        "label": "router",
        "params": {
            "data_source": "session_state",
            "route_key": "page_context.section",
            "keywords": ["billing", "other"],
            "default_keyword_index": 1,
            "tag_output_message": False,
        },
    }
    assert converted["nodes"][2]["params"] == {"template_string": "Billing: {{ input }}"}
    assert [(e["source"], e["source_handle"], e["target"]) for e in converted["edges"]] == [
        ("start", "output", "router"),
        ("router", "output_0", "billing"),
        ("router", "output_1", "other"),
        ("billing", "output", "end"),
        ("other", "output", "end"),
    ]
    # The graph form is its own fixed point: what was recorded checks again to itself (inspect's output, fed back).
    assert validate_pipeline(converted) == converted
    assert (
        validate_pipeline({"id": 3, "graph": {"nodes": [], "edges": converted["edges"]}, "nodes": converted["nodes"]})
        == converted
    )


def test_an_earlier_llm_node_keeps_its_provider_model_and_history():
    converted = in_graph_form(linear({"id": "bot", "type": "llm", "prompt": "P", "provider": "echo", "model": "m2"}))
    assert converted["nodes"][1] == {
        "node_id": "bot",
        "type": "LLMResponseWithPrompt",
        "label": "bot",
        "params": {"prompt": "P", "history_type": "global"},
        "llm": {"type": "echo", "model": "m2"},
    }
    checked = validate_pipeline(linear({"id": "bot", "type": "llm", "prompt": "P", "provider": "echo", "model": "m2"}))
    assert checked["nodes"][1]["params"]["llm_provider_id"] == 2
    assert checked["nodes"][1]["params"]["llm_provider_model_id"] == model_number("m2")


def test_an_earlier_template_renders_the_same_once_it_is_jinja():
    template = "{input}: {participant_data.name} {{not jinja}} {% raw %} {json: 1} {unknown.root}"
    pipeline = linear({"id": "t", "type": "render_template", "template": template})
    assert run(pipeline, "Hi", data={"name": "Ana"}).reply == "Hi: Ana {{not jinja}} {% raw %} {json: 1} {unknown.root}"


@pytest.mark.parametrize(("text", "branch"), [("yes", "output_true"), ("Yes", "output_false"), ("no", "output_false")])
def test_a_boolean_node_routes_on_whether_its_input_equals(text, branch):
    pipeline = branches(
        ("check", "BooleanNode", {"input_equals": "yes", "tag_output_message": True}), ("output_true", "output_false")
    )
    outcome = run(pipeline, text)
    assert outcome.reply == f"{branch}: {text}"
    assert outcome.message_tags == [f"check:{branch.removeprefix('output_')}"]


def test_a_router_takes_the_keyword_the_llm_names_in_any_case_else_its_default():
    router = (
        "router",
        "RouterNode",
        {"prompt": "Which team?", "keywords": ["BILLING", "OTHER"], "default_keyword_index": 1},
    )
    pipeline = branches(router, ("output_0", "output_1"))
    assert run_with(Answering("billing."), pipeline, "my bill").reply == "output_0: my bill"
    assert run_with(Answering("no idea"), pipeline, "hmm").reply == "output_1: hmm"


def test_extract_structured_data_outputs_the_fields_the_llm_found():
    schema = {"name": "the person's first name", "city": "where they live"}
    llm = Answering('Sure: {"name": "Ana", "city": null, "extra": 1}')
    pipeline = graph(("x", "ExtractStructuredData", {"data_schema": json.dumps(schema)}))
    outcome = run_with(llm, pipeline, "I am Ana")
    assert json.loads(outcome.reply) == {"name": "Ana", "city": None}
    assert "the person's first name" in llm.calls[0].messages[0]["content"]
    assert llm.calls[0].messages[-1] == {"role": "user", "content": "I am Ana"}
    # An answer that is no JSON object finds nothing.
    assert json.loads(run_with(Answering("no idea"), pipeline, "I am Ana").reply) == {"name": None, "city": None}


@pytest.mark.parametrize(
    ("key_name", "data"),
    [
        ("", {"plan": "gold", "name": "Ana"}),
        ("profile", {"plan": "gold", "profile": {"age": 3, "name": "Ana"}}),
    ],
)
def test_extract_participant_data_merges_what_it_found_and_passes_its_input_on(key_name, data):
    schema = {"name": "first name", "city": "city"}
    pipeline = graph(("x", "ExtractParticipantData", {"data_schema": json.dumps(schema), "key_name": key_name}))
    before = {"plan": "gold", "profile": {"age": 3}} if key_name else {"plan": "gold"}
    outcome = run_with(Answering('{"name": "Ana", "city": null}'), pipeline, "I am Ana", before)
    assert outcome.reply == "I am Ana"
    assert outcome.participant_data == data


def test_the_catalogue_schemas_are_generated_from_the_validators_schemas():
    """Params the validator takes pass the catalogue's JSON Schema, and params it refuses do not."""
    entry = catalogue_entry(NODE_TYPES["RouterNode"])
    assert entry["outputs"] == {
        "kind": "per_keyword",
        "handles": None,
        "handle_pattern": "output_{index}",
        "description": "One output per entry in `keywords`.",
    }
    assert entry["schema"]["properties"]["llm_provider_model_id"]["must_match"] == {
        "field": "llm_provider_id",
        "on": "type",
    }
    assert set(entry["schema"]["required"]) == {"prompt", "keywords"}
    good = {"prompt": "Which?", "keywords": ["A", "B"], "default_keyword_index": 1}
    jsonschema.validate(good, entry["schema"])
    for bad in ({"prompt": "Which?"}, {**good, "tools": []}, {**good, "keywords": "A"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, entry["schema"])
    for node_type in NODE_TYPES.values():
        jsonschema.Draft202012Validator.check_schema(catalogue_entry(node_type)["schema"])


def broken(change) -> dict:
    pipeline = copy.deepcopy(
        branches(
            ("router", "StaticRouterNode", {"data_source": "temp_state", "route_key": "k", "keywords": ["a", "b"]}),
            ("output_0", "output_1"),
        )
    )
    change(pipeline)
    return pipeline


@pytest.mark.parametrize(
    "pipeline, problem",
    [
        ([], "a pipeline is an object"),
        ({"nodes": []}, 'an "edges" list'),
        ({"graph": {"edges": []}, "nodes": "x"}, 'a "nodes" list'),
        (
            broken(lambda p: p["nodes"].append(node("x", "teleport"))),
            "node 'x': unknown type 'teleport': use one of StartNode",
        ),
        (
            broken(lambda p: p["nodes"][2]["params"].pop("template_string")),
            "node 'output_0': params.template_string: Missing",
        ),
        (broken(lambda p: p["nodes"][2]["params"].update(tools=[])), "node 'output_0': params.tools: Unknown field"),
        (broken(lambda p: p["nodes"][2].update(voice={"id": 1})), "node 'output_0': this server has no voice"),
        (broken(lambda p: p["nodes"].append(node("start", "EndNode"))), "node 'start': the id is used twice"),
        (broken(lambda p: p["nodes"].append(node("end2", "EndNode"))), "exactly one EndNode, not 2"),
        (broken(lambda p: p["edges"].append({"source": "end", "target": "nowhere"})), "there is no node 'nowhere'"),
        (broken(lambda p: p["edges"].pop(1)), "node 'router': output 'output_0' needs exactly one edge, has 0"),
        (
            broken(lambda p: p["edges"][1].update(source_handle="output_7")),
            "node 'router' has no output 'output_7' (it has: output_0, output_1)",
        ),
        (
            broken(lambda p: p["nodes"][1]["params"].update(default_keyword_index=2)),
            "params.default_keyword_index: is not the index",
        ),
        (
            broken(lambda p: p["nodes"][1]["params"].update(keywords=["a", "a"])),
            "params.keywords: a keyword is listed twice",
        ),
        (
            broken(lambda p: p["nodes"][1]["params"].update(data_source="cookies")),
            "node 'router': params.data_source: Must be one of",
        ),
        (broken(lambda p: p["edges"][3].update(target="router")), "loops back"),
        (
            broken(lambda p: p["nodes"][2]["params"].update(template_string="{% if %}")),
            "node 'output_0': the template does not compile",
        ),
        (broken(lambda p: p["nodes"][1].update(llm={"model": "m"})), "node 'router': a StaticRouterNode calls no LLM"),
        (
            graph(("b", "LLMResponseWithPrompt", {"prompt": "p", "llm_provider_model_id": 5})),
            "params.llm_provider_model_id is no model's id here",
        ),
        (
            graph(("b", "LLMResponseWithPrompt", {"prompt": "p", "llm_provider_id": 9})),
            "params.llm_provider_id: Must be one of",
        ),
        (graph(("x", "ExtractStructuredData", {"data_schema": "[1]"})), "params.data_schema: is not a JSON object"),
        (graph(("py", "CodeNode", {"code": "def helper():\n    return 1\n"})), "node 'py':"),
        (graph(("py", "CodeNode", {"code": "import os\ndef main(input, **kwargs):\n    return ''"})), "node 'py':"),
        (
            graph(*[(f"n{i}", "RenderTemplate", {"template_string": "x"}) for i in range(MAX_NODES)]),
            f"at most {MAX_NODES} nodes",
        ),
        (
            graph(("t", "RenderTemplate", {"template_string": "x" * (MAX_TEXT_CHARS + 1)})),
            "params.template_string: Longer than maximum",
        ),
        (
            graph(*[(f"n{i}", "RenderTemplate", {"template_string": "x" * 90_000}) for i in range(6)]),
            f"at most {MAX_PIPELINE_CHARS} characters",
        ),
        (graph(("b", "LLMResponseWithPrompt", {"prompt": "p", "keywords": []})), "params.keywords: Unknown field"),
        # The earlier form, refused once converted, in the graph form's words.
        (linear({"id": "t", "type": "render_template"}), "node 't': params.template_string: Missing"),
        (linear({"id": "x", "type": "teleport"}), "node 'x': unknown type 'teleport'"),
        (
            routed()
            | {"edges": [{"from": "start", "to": "router"}, {"from": "router", "to": "billing", "route": "nope"}]},
            "a router's edge names one of its routes",
        ),
        (
            linear({"id": "py", "type": "python", "code": "import os\ndef main(input, **kwargs):\n    return ''"}),
            "node 'py':",
        ),
    ],
)
def test_invalid_pipelines_are_refused_naming_the_node_and_the_problem(pipeline, problem):
    with pytest.raises(PipelineError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        validate_pipeline(pipeline)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ range(1000000) | list }}", "the template failed: OverflowError"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "the template failed: RecursionError"),
        ("{% for i in range(200) %}{{ 'x' * 1000 }}{% endfor %}", "rendered 200000 characters; at most 10000"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        # Work that would stall or exhaust the worker stops at the sandbox's limits.
        ("{{ 'x' * 10 ** 10 }}", "more than the 256 MB allowed"),
        ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "more than 2 s of CPU"),
    ],
)
def test_a_failing_template_ends_the_run_with_what_went_wrong(template, problem):
    with pytest.raises(TemplateFailure, match=problem):
        run(graph(("t", "RenderTemplate", {"template_string": template})))


def test_a_template_reaches_no_python_internals():
    assert run(graph(("t", "RenderTemplate", {"template_string": "[{{ input.__class__ }}]"}))).reply == "[]"
