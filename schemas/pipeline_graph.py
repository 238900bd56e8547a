"""A chatbot pipeline in its graph form, OCS's: nodes (`node_id`, `type`, `label`, `params`) and edges (`source`,
`target`, `source_handle`), as `GET /api/v2/chatbots/{id}/inspect/` shows it and the write side records it.

Pipelines were first written in an earlier form of this server's own (`{"id", "type": "llm", "prompt"}` nodes,
`{"from", "to", "route"}` edges). Recorded events keep that form forever, and `ocs admin` still takes it, so it is
converted to the graph form wherever a pipeline is read (`in_graph_form`): on input, before a run, and for `inspect`.
"""

import json

from schemas.ids import model_number
from schemas.pipeline_nodes import LLM_PARAMS, NODE_TYPES, PROVIDER_LABELS, output_handles, provider_number
from schemas.prompt_placeholders import PIPELINE_ROOTS, PLACEHOLDER


class PipelineError(ValueError):
    """A pipeline that cannot run; the text names the node (or edge) and the problem."""


# The earlier form's node types, by their graph-form names.
EARLIER_TYPES = {
    "start": "StartNode",
    "end": "EndNode",
    "llm": "LLMResponseWithPrompt",
    "python": "CodeNode",
    "static_router": "StaticRouterNode",
    "llm_router": "RouterNode",
    "render_template": "RenderTemplate",
}
EARLIER_ROUTERS = ("static_router", "llm_router")


def in_graph_form(pipeline) -> dict:
    """`{"nodes", "edges"}` in the graph form, from either the graph form (as inspect shows it, with its `graph`, or
    just nodes and edges) or the earlier one. Only the shape is looked at: the validator checks the rest."""
    if isinstance(pipeline, dict) and isinstance(pipeline.get("graph"), dict):
        return {"nodes": pipeline.get("nodes"), "edges": pipeline["graph"].get("edges")}
    if not isinstance(pipeline, dict) or not isinstance(pipeline.get("nodes"), list):
        raise PipelineError('a pipeline is an object with a "nodes" list and an "edges" list')
    if not isinstance(pipeline.get("edges"), list):
        raise PipelineError('a pipeline needs an "edges" list')
    if not any(isinstance(node, dict) and "id" in node and "node_id" not in node for node in pipeline["nodes"]):
        return {"nodes": pipeline["nodes"], "edges": pipeline["edges"]}
    nodes = {}
    for node in pipeline["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            raise PipelineError('every node is an object with a non-empty string "id"')
        nodes[node["id"]] = node
    return {
        "nodes": [graph_node(node) for node in pipeline["nodes"]],
        "edges": [graph_edge(edge, nodes, number) for number, edge in enumerate(pipeline["edges"])],
    }


def graph_node(node: dict) -> dict:
    kind = node.get("type")
    if not isinstance(kind, str) or kind not in EARLIER_TYPES:
        raise PipelineError(f"node {node['id']!r}: unknown type {kind!r}: use one of {', '.join(NODE_TYPES)}")
    given = {key: value for key, value in node.items() if key not in ("id", "type")}
    params, llm = earlier_params(kind, given)
    converted = {"node_id": node["id"], "type": EARLIER_TYPES[kind], "label": node["id"], "params": params}
    return {**converted, "llm": llm} if llm else converted


def earlier_params(kind: str, given: dict) -> tuple[dict, dict]:
    """(the node's params in the graph form, the LLM it names: `type` and `model`, either left out)."""
    renamed = {"code": "code", "prompt": "prompt", "data_source": "data_source", "key": "route_key"}
    params = {renamed[key]: value for key, value in given.items() if key in renamed}
    llm = {name: given[key] for key, name in (("provider", "type"), ("model", "model")) if key in given}
    if "template" in given:
        params["template_string"] = jinja_template(given["template"])
    if kind in ("llm", "llm_router"):
        params["history_type"] = "global" if given.get("history", kind == "llm") else "none"
    if kind in EARLIER_ROUTERS:
        routes = given.get("routes")
        params["keywords"] = routes
        if isinstance(routes, list):
            default = given.get("default")
            params["default_keyword_index"] = routes.index(default) if default in routes else -1
    return params, llm


def graph_edge(edge, nodes: dict, number: int) -> dict:
    if not isinstance(edge, dict) or not all(isinstance(edge.get(end), str) for end in ("from", "to")):
        raise PipelineError('every edge is an object with string "from" and "to" node ids')
    source = nodes.get(edge["from"], {})
    handle = "output"
    if source.get("type") in EARLIER_ROUTERS:
        routes = source.get("routes")
        if not isinstance(routes, list) or edge.get("route") not in routes:
            raise PipelineError(f"edge {edge['from']!r} -> {edge['to']!r}: a router's edge names one of its routes")
        handle = f"output_{routes.index(edge['route'])}"
    return {
        "id": f"edge-{number}",
        "source": edge["from"],
        "target": edge["to"],
        "source_handle": handle,
        "target_handle": None,
    }


def jinja_template(template) -> str:
    """An earlier `{session_state.x}` template as the Jinja template that renders the same: each placeholder an
    expression, and text that holds braces a string expression, so Jinja never reads it as its own syntax."""
    if not isinstance(template, str):
        return template
    parts, at = [], 0
    for match in PLACEHOLDER.finditer(template):
        if match.group(1) not in PIPELINE_ROOTS:
            continue
        parts.append(literal(template[at : match.start()]))
        path = "".join(f"[{json.dumps(part)}]" for part in match.group(2).split(".")[1:])
        parts.append(f"{{{{ {match.group(1)}{path} }}}}")
        at = match.end()
    parts.append(literal(template[at:]))
    return "".join(parts)


def literal(text: str) -> str:
    return f"{{{{ {json.dumps(text, ensure_ascii=False)} }}}}" if "{" in text or "}" in text else text


def prompt_pipeline(prompt: str) -> dict:
    """What a chatbot without a pipeline amounts to: its one prompt, with the conversation so far, in one LLM node."""
    return {
        "nodes": [
            {"node_id": "start", "type": "StartNode", "label": "start", "params": {}},
            {
                "node_id": "llm",
                "type": "LLMResponseWithPrompt",
                "label": "llm",
                "params": {"prompt": prompt, "history_type": "global"},
            },
            {"node_id": "end", "type": "EndNode", "label": "end", "params": {}},
        ],
        "edges": [
            {"id": "start-llm", "source": "start", "target": "llm", "source_handle": "output", "target_handle": None},
            {"id": "llm-end", "source": "llm", "target": "end", "source_handle": "output", "target_handle": None},
        ],
    }


def inspected(graph: dict, provider: str, model: str) -> dict:
    """A pipeline in the graph form as inspect shows it: its `graph` (topology) and its `nodes` in full, each node's
    LLM resolved (the chatbot's `provider` and `model` unless it names its own) and the resources it could reference,
    which this server does not have, empty. Fed back as it is, it records the same pipeline."""
    return {
        "graph": {
            "nodes": [{key: node[key] for key in ("node_id", "type", "label")} for node in graph["nodes"]],
            "edges": [{**edge, "target_handle": None} for edge in graph["edges"]],
        },
        "nodes": [inspected_node(node, provider, model) for node in graph["nodes"]],
    }


def inspected_node(node: dict, provider: str, model: str) -> dict:
    params = node["params"]
    shown = {
        "node_id": node["node_id"],
        "type": node["type"],
        "label": node.get("label", node["node_id"]),
        "params": {key: value for key, value in params.items() if key not in LLM_PARAMS},
        "output_handles": [
            {"handle": handle, "label": label} for handle, label in output_handles(node["type"], params)
        ],
    }
    if NODE_TYPES[node["type"]].calls_llm:
        llm = node.get("llm", {})
        kind, name = llm.get("type") or provider, llm.get("model") or model
        shown["llm"] = {
            "provider_id": provider_number(kind),
            "provider_name": PROVIDER_LABELS.get(kind),
            "model_id": model_number(name),
            "type": kind,
            "model": name,
            "max_token_limit": None,
            "deprecated": None,
        }
    return shown
