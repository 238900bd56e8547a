"""What a chatbot pipeline is, and the checks a pipeline passes before a chatbot may carry it.

A pipeline is JSON: `{"nodes": [...], "edges": [...]}`. Each node has an `id` and a `type`:

- `start`: its output is the user's message.
- `llm` (`prompt`, `history` default true, `provider` and `model` default the chatbot's): the LLM's answer
  to its input (a provider other than the chatbot's is reached at the chatbot's base URL with its key).
- `python` (`code`, defining `main(input, **kwargs)`): `main`'s return value, run in the sandbox.
- `static_router` (`data_source`: `session_state`, `participant_data` or `temp_state`; `key`; `routes`;
  `default`): routes to the key's value when that names a route, else to `default`; passes its input on.
- `llm_router` (`prompt`, `routes`, `default`, `history` default false): the LLM picks one of `routes`
  (anything else: `default`); passes its input on.
- `render_template` (`template`): `{input}`, `{session_state.x}`, `{participant_data.x}`, `{temp_state.x}`.
- `end`: its input is the reply.

Edges are `{"from": id, "to": id}`; a router has one edge per route, `{"from", "to", "route"}`. The graph
runs from the one `start` to the one `end` without cycles, so every run ends.
"""

from schemas.chatbots import PROVIDERS
from workers.pipelines.python_node import PythonNodeError, check_code

# Far more than any chatbot needs; they bound the work of checking and running one.
MAX_NODES = 200
MAX_CODE_CHARS = 100_000
ROUTERS = ("static_router", "llm_router")
DATA_SOURCES = ("session_state", "participant_data", "temp_state")
# Per node type: its fields, each (name, type, required).
NODE_FIELDS: dict[str, tuple[tuple[str, type, bool], ...]] = {
    "start": (),
    "end": (),
    "llm": (("prompt", str, True), ("history", bool, False), ("provider", str, False), ("model", str, False)),
    "python": (("code", str, True),),
    "static_router": (("data_source", str, True), ("key", str, True), ("routes", list, True), ("default", str, True)),
    "llm_router": (("prompt", str, True), ("routes", list, True), ("default", str, True), ("history", bool, False)),
    "render_template": (("template", str, True),),
}


class PipelineError(ValueError):
    """A pipeline that cannot run; the text names the node (or edge) and the problem."""


def validate_pipeline(pipeline) -> None:
    if not isinstance(pipeline, dict) or not isinstance(pipeline.get("nodes"), list):
        raise PipelineError('a pipeline is an object with a "nodes" list and an "edges" list')
    if not isinstance(pipeline.get("edges"), list):
        raise PipelineError('a pipeline needs an "edges" list')
    if len(pipeline["nodes"]) > MAX_NODES:
        raise PipelineError(f"a pipeline has at most {MAX_NODES} nodes")
    nodes = {}
    for node in pipeline["nodes"]:
        check_node(node)
        if node["id"] in nodes:
            raise PipelineError(f"node {node['id']!r}: the id is used twice")
        nodes[node["id"]] = node
    for node_type in ("start", "end"):
        count = sum(node["type"] == node_type for node in nodes.values())
        if count != 1:
            raise PipelineError(f"a pipeline has exactly one {node_type} node, not {count}")
    outgoing = {node_id: [] for node_id in nodes}
    for edge in pipeline["edges"]:
        check_edge(edge, nodes)
        outgoing[edge["from"]].append(edge)
    for node_id, edges in outgoing.items():
        check_outgoing(nodes[node_id], edges)
    check_runs_from_start_to_end(nodes, outgoing)


def check_node(node) -> None:
    if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not node["id"]:
        raise PipelineError('every node is an object with a non-empty string "id"')
    name = node["id"]
    if node.get("type") not in NODE_FIELDS:
        raise PipelineError(f"node {name!r}: unknown type {node.get('type')!r}: use one of {', '.join(NODE_FIELDS)}")
    for field, kind, required in NODE_FIELDS[node["type"]]:
        if field not in node:
            if required:
                raise PipelineError(f"node {name!r}: {field!r} is required")
        elif not isinstance(node[field], kind) or (kind is str and required and not node[field].strip()):
            raise PipelineError(f"node {name!r}: {field!r} must be a non-empty {kind.__name__}")
    if node["type"] in ROUTERS:
        routes = node["routes"]
        if not routes or not all(isinstance(route, str) and route for route in routes):
            raise PipelineError(f"node {name!r}: 'routes' is a non-empty list of route names")
        if len(set(routes)) != len(routes):
            raise PipelineError(f"node {name!r}: a route name is listed twice")
        if node["default"] not in routes:
            raise PipelineError(f"node {name!r}: the default route {node['default']!r} is not one of its routes")
    if node["type"] == "llm" and node.get("provider", "openai") not in PROVIDERS:
        raise PipelineError(f"node {name!r}: 'provider' is one of {', '.join(PROVIDERS)}")
    if node["type"] == "static_router" and node["data_source"] not in DATA_SOURCES:
        raise PipelineError(f"node {name!r}: 'data_source' is one of {', '.join(DATA_SOURCES)}")
    if node["type"] == "python":
        if len(node["code"]) > MAX_CODE_CHARS:
            raise PipelineError(f"node {name!r}: code is longer than {MAX_CODE_CHARS} characters")
        try:
            check_code(node["code"])
        except PythonNodeError as exc:
            raise PipelineError(f"node {name!r}: {exc}") from None


def check_edge(edge, nodes: dict) -> None:
    if not isinstance(edge, dict) or not all(isinstance(edge.get(end), str) for end in ("from", "to")):
        raise PipelineError('every edge is an object with string "from" and "to" node ids')
    for end in ("from", "to"):
        if edge[end] not in nodes:
            raise PipelineError(f"edge {edge['from']!r} -> {edge['to']!r}: there is no node {edge[end]!r}")
    source = nodes[edge["from"]]
    if source["type"] in ROUTERS and edge.get("route") not in source["routes"]:
        raise PipelineError(f"edge {edge['from']!r} -> {edge['to']!r}: a router's edge names one of its routes")
    if source["type"] not in ROUTERS and "route" in edge:
        raise PipelineError(f"edge {edge['from']!r} -> {edge['to']!r}: only a router's edges have a route")


def check_outgoing(node: dict, edges: list[dict]) -> None:
    name = node["id"]
    if node["type"] == "end":
        if edges:
            raise PipelineError(f"node {name!r}: nothing runs after the end node")
    elif node["type"] in ROUTERS:
        routes = [edge["route"] for edge in edges]
        if sorted(routes) != sorted(node["routes"]):
            raise PipelineError(f"node {name!r}: a router needs exactly one edge for each of its routes")
    elif len(edges) != 1:
        raise PipelineError(f"node {name!r}: needs exactly one outgoing edge, has {len(edges)}")


def check_runs_from_start_to_end(nodes: dict, outgoing: dict) -> None:
    """Every node is reached from the start, and no path comes back to a node (so every run ends)."""
    start = next(node_id for node_id, node in nodes.items() if node["type"] == "start")
    reached, on_path = set(), set()

    def walk(node_id: str) -> None:
        if node_id in on_path:
            raise PipelineError(f"node {node_id!r}: the pipeline loops back to it")
        if node_id in reached:
            return
        reached.add(node_id)
        on_path.add(node_id)
        for edge in outgoing[node_id]:
            walk(edge["to"])
        on_path.discard(node_id)

    walk(start)
    unreached = [node_id for node_id in nodes if node_id not in reached]
    if unreached:
        raise PipelineError(f"node {unreached[0]!r}: not reachable from the start node")
