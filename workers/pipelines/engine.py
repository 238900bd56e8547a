"""Running a chatbot's pipeline on one user message (node types: `workers.pipelines.definition`).

A run starts at the start node with the user's message and follows one edge out of each node (a router's
edge is the route it picked) until the end node, whose input is the reply. Nodes read and change copies
of the session state, the participant's data and a temporary state that lives for this run only; what the
run changed comes back as an outcome for the caller to record, together with the reply. An LLM node whose output
is the reply (its edge leads to the end node) streams its tokens to the run's listener as they come; what other
nodes make is the caller's to pass on whole.
"""

from dataclasses import dataclass, field

from workers.llm import NO_LISTENER, Listener, LlmCall, LlmClients, LlmReply
from workers.pipelines.python_node import Limits, NodeContext, run_python_node
from workers.prompt import lookup, render


@dataclass
class PipelineOutcome:
    reply: str
    session_state: dict
    participant_data: dict
    message_tags: list[str] = field(default_factory=list)
    session_tags: list[str] = field(default_factory=list)
    ends_session: bool = False
    trace: list[dict] = field(default_factory=list)  # per node run: id, type, output, printed
    streamed: bool = False  # the reply reached the listener as it was generated
    stopped: bool = False  # the listener stopped it: the reply is what was generated until then
    usage: dict | None = None  # tokens the run's LLM calls reported, added up


@dataclass
class Run:
    """One run's working state."""

    text: str
    history: list[dict]
    session_state: dict
    participant_data: dict
    temp_state: dict = field(default_factory=dict)
    node_outputs: dict[str, str] = field(default_factory=dict)
    selected_routes: dict[str, str] = field(default_factory=dict)
    message_tags: list[str] = field(default_factory=list)
    session_tags: list[str] = field(default_factory=list)
    ends_session: bool = False
    trace: list[dict] = field(default_factory=list)
    streamed: bool = False
    stopped: bool = False
    usage: dict | None = None

    def counted(self, reply: LlmReply) -> str:
        if reply.usage:
            self.usage = {key: (self.usage or {}).get(key, 0) + count for key, count in reply.usage.items()}
        self.stopped = self.stopped or reply.stopped
        return reply.text

    def outcome(self, reply: str) -> PipelineOutcome:
        return PipelineOutcome(
            reply=reply,
            session_state=self.session_state,
            participant_data=self.participant_data,
            message_tags=self.message_tags,
            session_tags=self.session_tags,
            ends_session=self.ends_session,
            trace=self.trace,
            streamed=self.streamed,
            stopped=self.stopped,
            usage=self.usage,
        )


# A trace keeps this much of each node's output and printed text: enough to see what happened.
TRACE_CHARS = 2000


def traced(node: dict, output: str | None, printed: str) -> dict:
    return {
        "id": node["id"],
        "type": node["type"],
        "output": (output or "")[:TRACE_CHARS],
        "printed": printed[:TRACE_CHARS],
    }


class Aborted(Exception):
    """A Python node called `abort_with_message`: its message is the reply, and nothing else runs."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PipelineEngine:
    def __init__(self, llm: LlmClients, limits: Limits | None = None):
        self.llm = llm
        self.limits = limits or Limits()

    def run(
        self,
        pipeline: dict,
        config: dict,
        text: str,
        history: list[dict],
        session_state: dict,
        participant_data: dict,
        listener: Listener = NO_LISTENER,
    ) -> PipelineOutcome:
        """`config` is the answering version's LLM configuration: provider, model, base URL and key.
        Raises LlmFailure or PythonNodeError when a node cannot do its part."""
        nodes = {node["id"]: node for node in pipeline["nodes"]}
        edges = pipeline["edges"]
        run = Run(text, history, dict(session_state), dict(participant_data))
        node = next(node for node in nodes.values() if node["type"] == "start")
        end_ids = {node_id for node_id, candidate in nodes.items() if candidate["type"] == "end"}
        replying = {e["from"] for e in edges if e["to"] in end_ids and e.get("route") is None}
        value = text
        while node["type"] != "end":
            streams_reply = node["type"] == "llm" and node["id"] in replying
            try:
                value, route = self.step(node, value, run, config, listener if streams_reply else NO_LISTENER)
            except Aborted as abort:
                return run.outcome(abort.message)
            run.node_outputs[node["id"]] = value
            run.streamed = run.streamed or streams_reply
            next_id = next(e["to"] for e in edges if e["from"] == node["id"] and e.get("route") == route)
            node = nodes[next_id]
        return run.outcome(value)

    def step(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> tuple[str, str | None]:
        """(the node's output, the route it picked: routers only)."""
        kind = node["type"]
        printed = ""
        route = None
        if kind == "llm":
            prompt = self.rendered(node["prompt"], value, run)
            value = run.counted(self.ask(config, node, prompt, value, run, node.get("history", True), listener))
        elif kind == "python":
            value, printed = self.python(node, value, run)
        elif kind == "render_template":
            value = self.rendered(node["template"], value, run)
        elif kind == "static_router":
            source = {"session_state": run.session_state, "participant_data": run.participant_data}.get(
                node["data_source"], run.temp_state
            )
            chosen = lookup(source, f".{node['key']}")
            route = chosen if chosen in node["routes"] else node["default"]
        elif kind == "llm_router":
            instruction = (
                f"{self.rendered(node['prompt'], value, run)}\n\n"
                f"Answer with exactly one of these words and nothing else: {', '.join(node['routes'])}."
            )
            answer = run.counted(self.ask(config, node, instruction, value, run, node.get("history", False)))
            route = next((r for r in node["routes"] if r.lower() == answer.strip().strip(".").lower()), node["default"])
        if route is not None:
            run.selected_routes[node["id"]] = route
        run.trace.append(traced(node, value, printed))
        return value, route

    @staticmethod
    def rendered(template: str, value: str, run: Run) -> str:
        return render(template, run.session_state, run.participant_data, temp_state=run.temp_state, input=value)

    def ask(
        self,
        config: dict,
        node: dict,
        system: str,
        value: str,
        run: Run,
        with_history: bool,
        listener: Listener = NO_LISTENER,
    ) -> LlmReply:
        call = LlmCall(
            provider=node.get("provider") or config["provider"],
            model=node.get("model") or config["model"],
            base_url=config["base_url"],
            api_key=config.get("api_key"),
            messages=[
                {"role": "system", "content": system},
                *(run.history if with_history else []),
                {"role": "user", "content": value},
            ],
        )
        return self.llm.reply(call, listener)

    def python(self, node: dict, value: str, run: Run) -> tuple[str, str]:
        context = NodeContext(
            session_state=run.session_state,
            participant_data=run.participant_data,
            temp_state=run.temp_state,
            node_outputs=dict(run.node_outputs),
            selected_routes=dict(run.selected_routes),
        )
        result = run_python_node(node["code"], value, context, self.limits)
        run.session_state = result.session_state
        run.participant_data = result.participant_data
        run.temp_state = result.temp_state
        run.message_tags.extend(tag for tag in result.message_tags if tag not in run.message_tags)
        run.session_tags.extend(tag for tag in result.session_tags if tag not in run.session_tags)
        run.ends_session = run.ends_session or result.ends_session
        if result.abort_message is not None:
            if result.abort_tag:
                run.message_tags.append(result.abort_tag)
            run.trace.append(traced(node, None, result.printed))
            raise Aborted(result.abort_message)
        return result.output, result.printed
