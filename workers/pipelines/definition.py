"""The checks a pipeline passes before a chatbot may carry it, on its graph form (`schemas/pipeline_graph.py`).

A pipeline is `{"nodes": [...], "edges": [...]}` (or inspect's `pipeline`, whose `graph` holds the edges). Each node
is `{"node_id", "type", "label", "params"}`, of a type of `schemas/pipeline_nodes.py`, whose schema its params must
pass; a node that calls an LLM may name it as inspect shows it, `"llm": {"type": "openai", "model": "gpt-4o"}` (the
chatbot's provider and model otherwise). Each edge is `{"source", "target", "source_handle"}`: every handle a node
offers has exactly one edge, and the graph runs from its one `StartNode` to its one `EndNode` without cycles, so
every run ends. A pipeline in the earlier form is checked once converted, and recorded in the graph form.
"""

import json

from marshmallow import ValidationError

from schemas.chatbots import PROVIDERS
from schemas.ids import model_number
from schemas.pipeline_graph import PipelineError, in_graph_form
from schemas.pipeline_nodes import MAX_NAME_CHARS, NODE_TYPES, PROVIDER_IDS, output_handles, provider_number
from workers.pipelines.python_node import PythonNodeError, check_code
from workers.pipelines.templates import TemplateFailure, check_template

# Far more than any chatbot needs; they bound the work of checking and running one, and keep a pipeline (recorded in
# a chatbot's events) well inside one Kafka message.
MAX_NODES = 200
MAX_PIPELINE_CHARS = 500_000
# What inspect shows of a node beside its params: resources this server does not have, always empty here.
RESOURCES = ("voice", "source_material", "assistant", "custom_actions", "media_collection", "indexed_collections")
DERIVED = ("output_handles",)

__all__ = ["PipelineError", "validate_pipeline"]


def validate_pipeline(pipeline) -> dict:
    """The pipeline in its graph form, as recorded and run; raises PipelineError saying what is wrong."""
    if len(json.dumps(pipeline)) > MAX_PIPELINE_CHARS:
        raise PipelineError(f"a pipeline is at most {MAX_PIPELINE_CHARS} characters of JSON")
    graph = in_graph_form(pipeline)
    if not isinstance(graph["nodes"], list) or not isinstance(graph["edges"], list):
        raise PipelineError('a pipeline is an object with a "nodes" list and an "edges" list')
    if len(graph["nodes"]) > MAX_NODES:
        raise PipelineError(f"a pipeline has at most {MAX_NODES} nodes")
    nodes = {}
    for node in graph["nodes"]:
        checked = checked_node(node)
        if checked["node_id"] in nodes:
            raise PipelineError(f"node {checked['node_id']!r}: the id is used twice")
        nodes[checked["node_id"]] = checked
    for node_type in ("StartNode", "EndNode"):
        count = sum(node["type"] == node_type for node in nodes.values())
        if count != 1:
            raise PipelineError(f"a pipeline has exactly one {node_type}, not {count}")
    edges = [checked_edge(edge, nodes) for edge in graph["edges"]]
    if len({edge["id"] for edge in edges}) != len(edges):
        raise PipelineError("an edge id is used twice")
    outgoing = {node_id: [] for node_id in nodes}
    for edge in edges:
        outgoing[edge["source"]].append(edge)
    for node_id, leaving in outgoing.items():
        check_outgoing(nodes[node_id], leaving)
    check_runs_from_start_to_end(nodes, outgoing)
    return {"nodes": list(nodes.values()), "edges": edges}


def checked_node(node) -> dict:
    if not isinstance(node, dict) or not isinstance(node.get("node_id"), str) or not node["node_id"]:
        raise PipelineError('every node is an object with a non-empty string "node_id"')
    name = node["node_id"]
    if len(name) > MAX_NAME_CHARS:
        raise PipelineError(f"node {name[:40]!r}...: a node id is at most {MAX_NAME_CHARS} characters")
    node_type = NODE_TYPES.get(node["type"]) if isinstance(node.get("type"), str) else None
    if node_type is None:
        raise PipelineError(f"node {name!r}: unknown type {node.get('type')!r}: use one of {', '.join(NODE_TYPES)}")
    label = node.get("label", name)
    if not isinstance(label, str) or len(label) > MAX_NAME_CHARS:
        raise PipelineError(f"node {name!r}: 'label' is a string of at most {MAX_NAME_CHARS} characters")
    unknown = set(node) - {"node_id", "type", "label", "params", "llm", *RESOURCES, *DERIVED}
    if unknown:
        raise PipelineError(f"node {name!r}: unknown field {sorted(unknown)[0]!r}")
    for resource in RESOURCES:
        if node.get(resource) not in (None, []):
            raise PipelineError(f"node {name!r}: this server has no {resource.replace('_', ' ')}: leave it empty")
    try:
        params = node_type.params().load(node.get("params") or {})
    except ValidationError as exc:
        field, problem = next(iter(flat_errors(exc.messages)))
        raise PipelineError(f"node {name!r}: params.{field}: {problem}") from None
    checked = {"node_id": name, "type": node_type.name, "label": label, "params": params}
    if node_type.calls_llm:
        llm = checked_llm(name, node.get("llm"), params)
        if llm:
            checked["llm"] = llm
    elif node.get("llm") is not None:
        raise PipelineError(f"node {name!r}: a {node_type.name} calls no LLM")
    check_code_and_templates(name, node_type.name, params)
    return checked


def flat_errors(messages, prefix: str = ""):
    """(dotted field, first message) pairs of marshmallow's nested error messages."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from flat_errors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list) and messages and isinstance(messages[0], str):
        yield prefix, messages[0]
    else:
        yield prefix, str(messages)


def checked_llm(name: str, llm, params: dict) -> dict:
    """The node's LLM as recorded, `type` and `model` (either left out: the chatbot's), agreeing with the ids."""
    if llm is None:
        llm = {}
    if not isinstance(llm, dict):
        raise PipelineError(f"node {name!r}: 'llm' is an object with a provider 'type' and a 'model' name")
    chosen = {key: llm[key] for key in ("type", "model") if llm.get(key) is not None}
    if "llm_provider_id" in params:
        provider = PROVIDER_IDS[params["llm_provider_id"]]
        if chosen.setdefault("type", provider) != provider:
            raise PipelineError(f"node {name!r}: params.llm_provider_id is not the provider of llm.type")
    if chosen.get("type", "openai") not in PROVIDERS:
        raise PipelineError(f"node {name!r}: llm.type is one of {', '.join(PROVIDERS)}")
    model = chosen.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip() or len(model) > MAX_NAME_CHARS):
        raise PipelineError(f"node {name!r}: llm.model is a model's name of at most {MAX_NAME_CHARS} characters")
    if "llm_provider_model_id" in params and params["llm_provider_model_id"] != model_number(model or ""):
        raise PipelineError(
            f"node {name!r}: params.llm_provider_model_id is no model's id here: name the model in llm.model"
        )
    if "type" in chosen and "llm_provider_id" not in params:
        params["llm_provider_id"] = provider_number(chosen["type"])
    if model is not None and "llm_provider_model_id" not in params:
        params["llm_provider_model_id"] = model_number(model)
    return chosen


def check_code_and_templates(name: str, node_type: str, params: dict) -> None:
    try:
        if node_type == "CodeNode":
            check_code(params["code"])
        elif node_type == "RenderTemplate":
            check_template(params["template_string"])
    except (PythonNodeError, TemplateFailure) as exc:
        raise PipelineError(f"node {name!r}: {exc}") from None


def checked_edge(edge, nodes: dict) -> dict:
    if not isinstance(edge, dict) or not all(isinstance(edge.get(end), str) for end in ("source", "target")):
        raise PipelineError('every edge is an object with string "source" and "target" node ids')
    where = f"edge {edge['source'][:MAX_NAME_CHARS]!r} -> {edge['target'][:MAX_NAME_CHARS]!r}"
    for end in ("source", "target"):
        if edge[end] not in nodes:
            raise PipelineError(f"{where}: there is no node {edge[end][:MAX_NAME_CHARS]!r}")
    source = nodes[edge["source"]]
    handles = [handle for handle, _ in output_handles(source["type"], source["params"])]
    handle = edge.get("source_handle") or "output"
    if handle not in handles:
        offered = ", ".join(handles) or "none"
        raise PipelineError(f"{where}: node {source['node_id']!r} has no output {handle!r} (it has: {offered})")
    if edge.get("target_handle") not in (None, "input"):
        raise PipelineError(f"{where}: a node has one input: leave 'target_handle' null")
    edge_id = edge.get("id") or f"{edge['source']}-{handle}-{edge['target']}"
    if not isinstance(edge_id, str) or len(edge_id) > 2 * MAX_NAME_CHARS:
        raise PipelineError(f"{where}: 'id' is a string of at most {2 * MAX_NAME_CHARS} characters")
    return {
        "id": edge_id,
        "source": edge["source"],
        "target": edge["target"],
        "source_handle": handle,
        "target_handle": None,
    }


def check_outgoing(node: dict, edges: list[dict]) -> None:
    handles = [handle for handle, _ in output_handles(node["type"], node["params"])]
    used = [edge["source_handle"] for edge in edges]
    for handle in handles:
        if used.count(handle) != 1:
            raise PipelineError(
                f"node {node['node_id']!r}: output {handle!r} needs exactly one edge, has {used.count(handle)}"
            )


def check_runs_from_start_to_end(nodes: dict, outgoing: dict) -> None:
    """Every node is reached from the start, and no path comes back to a node (so every run ends)."""
    start = next(node_id for node_id, node in nodes.items() if node["type"] == "StartNode")
    reached, on_path = set(), set()

    def walk(node_id: str) -> None:
        if node_id in on_path:
            raise PipelineError(f"node {node_id!r}: the pipeline loops back to it")
        if node_id in reached:
            return
        reached.add(node_id)
        on_path.add(node_id)
        for edge in outgoing[node_id]:
            walk(edge["target"])
        on_path.discard(node_id)

    walk(start)
    unreached = [node_id for node_id in nodes if node_id not in reached]
    if unreached:
        raise PipelineError(f"node {unreached[0]!r}: not reachable from the start node")
