"""Running a chatbot's pipeline, in its graph form (`workers.pipelines.definition`), on one user message.

A run starts at the `StartNode` with the user's message and follows one edge out of each node (a router's edge
leaves by the handle of the route it picked) until the `EndNode`, whose input is the reply. Nodes read and change copies
of the session state, the participant's data and a temporary state that lives for this run only; what the
run changed comes back as an outcome for the caller to record, together with the reply. An LLM node whose output
is the reply (its edge leads to the end node) streams its tokens to the run's listener as they come; what other
nodes make is the caller's to pass on whole.
"""

import json
from dataclasses import dataclass, field
from typing import NamedTuple

from schemas.pipeline_nodes import output_handles
from workers.llm import NO_LISTENER, Listener, LlmCall, LlmClients, LlmReply
from workers.pipelines.prompt import lookup, render
from workers.pipelines.python_node import Limits, NodeContext, run_python_node
from workers.pipelines.templates import render_template


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
EXTRACTION = (
    "Extract these fields from the user's message; each is named with a description of its value: {schema}\n"
    "Answer with one JSON object with exactly those keys, each value as the message gives it, or null where the "
    "message does not say. Answer with the JSON object only."
)


def traced(node: dict, output: str | None, printed: str) -> dict:
    return {
        "id": node["node_id"],
        "type": node["type"],
        "output": (output or "")[:TRACE_CHARS],
        "printed": printed[:TRACE_CHARS],
    }


class Stepped(NamedTuple):
    """What one node did: its output, the route it picked (routers only) and what it printed (Python nodes only)."""

    output: str
    route: str | None = None
    printed: str = ""


class Aborted(Exception):
    """A Python node called `abort_with_message`: its message is the reply, and nothing else runs."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PipelineEngine:
    def __init__(self, llm: LlmClients, limits: Limits | None = None):
        self.llm = llm
        self.limits = limits or Limits()
        self.steps = {
            "StartNode": lambda node, value, run, config, listener: Stepped(value),
            "LLMResponseWithPrompt": self.llm_response,
            "CodeNode": self.python,
            "RenderTemplate": self.template,
            "StaticRouterNode": self.static_router,
            "RouterNode": self.llm_router,
            "BooleanNode": self.boolean,
            "ExtractStructuredData": self.extract_structured_data,
            "ExtractParticipantData": self.extract_participant_data,
        }

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
        Raises LlmFailure, PythonNodeError or TemplateFailure when a node cannot do its part."""
        nodes = {node["node_id"]: node for node in pipeline["nodes"]}
        leaving = {(edge["source"], edge["source_handle"]): edge["target"] for edge in pipeline["edges"]}
        replying = {edge["source"] for edge in pipeline["edges"] if nodes[edge["target"]]["type"] == "EndNode"}
        run = Run(text, history, dict(session_state), dict(participant_data))
        node = next(node for node in nodes.values() if node["type"] == "StartNode")
        value = text
        while node["type"] != "EndNode":
            streams_reply = node["type"] == "LLMResponseWithPrompt" and node["node_id"] in replying
            try:
                value, handle = self.step(node, value, run, config, listener if streams_reply else NO_LISTENER)
            except Aborted as abort:
                return run.outcome(abort.message)
            run.node_outputs[node["node_id"]] = value
            run.streamed = run.streamed or streams_reply
            node = nodes[leaving[(node["node_id"], handle)]]
        return run.outcome(value)

    def step(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> tuple[str, str]:
        """(the node's output, the handle it leaves by)."""
        output, route, printed = self.steps[node["type"]](node, value, run, config, listener)
        params = node["params"]
        handles = output_handles(node["type"], params)
        handle = next(handle for handle, keyword in handles if keyword == route) if route else handles[0][0]
        if route is not None:
            run.selected_routes[node["node_id"]] = route
            if params.get("tag_output_message"):
                tagged(run, f"{node['label']}:{route}")
        if params.get("tag"):
            tagged(run, params["tag"])
        run.trace.append(traced(node, output, printed))
        return output, handle

    def llm_response(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> Stepped:
        params = node["params"]
        prompt = self.rendered(params["prompt"], value, run)
        with_history = params["history_type"] == "global"
        return Stepped(run.counted(self.ask(config, node, prompt, value, run, with_history, listener)))

    def template(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> Stepped:
        state = {
            "session_state": run.session_state,
            "participant_data": run.participant_data,
            "temp_state": run.temp_state,
        }
        return Stepped(render_template(node["params"]["template_string"], self.limits, input=value, **state))

    def static_router(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> Stepped:
        params = node["params"]
        sources = {"session_state": run.session_state, "participant_data": run.participant_data}
        chosen = lookup(sources.get(params["data_source"], run.temp_state), f".{params['route_key']}")
        return Stepped(value, keyword_named(params, chosen))

    def llm_router(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> Stepped:
        params = node["params"]
        instruction = (
            f"{self.rendered(params['prompt'], value, run)}\n\n"
            f"Answer with exactly one of these words and nothing else: {', '.join(params['keywords'])}."
        )
        answer = run.counted(self.ask(config, node, instruction, value, run, params["history_type"] == "global"))
        return Stepped(value, keyword_named(params, answer.strip().strip(".")))

    def boolean(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> Stepped:
        return Stepped(value, "true" if value == node["params"]["input_equals"] else "false")

    def extract_structured_data(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> Stepped:
        return Stepped(json.dumps(self.extracted(node, value, run, config), ensure_ascii=False))

    def extract_participant_data(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> Stepped:
        found = {key: found for key, found in self.extracted(node, value, run, config).items() if found is not None}
        key = node["params"]["key_name"]
        if key:
            kept = run.participant_data.get(key)
            run.participant_data = {**run.participant_data, key: {**(kept if isinstance(kept, dict) else {}), **found}}
        else:
            run.participant_data = {**run.participant_data, **found}
        return Stepped(value)

    def extracted(self, node: dict, value: str, run: Run, config: dict) -> dict:
        """The fields of the node's `data_schema` the LLM found in the input (None for the others); an answer that
        is no JSON object finds none."""
        schema = json.loads(node["params"]["data_schema"])
        instruction = EXTRACTION.format(schema=json.dumps(schema, ensure_ascii=False))
        answer = run.counted(self.ask(config, node, instruction, value, run, False))
        try:
            found = json.loads(answer[answer.index("{") : answer.rindex("}") + 1])
        except ValueError:
            found = {}
        found = found if isinstance(found, dict) else {}
        return {key: found.get(key) for key in schema}

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
        llm = node.get("llm", {})
        call = LlmCall(
            provider=llm.get("type") or config["provider"],
            model=llm.get("model") or config["model"],
            base_url=config["base_url"],
            api_key=config.get("api_key"),
            messages=[
                {"role": "system", "content": system},
                *(run.history if with_history else []),
                {"role": "user", "content": value},
            ],
        )
        return self.llm.reply(call, listener)

    def python(self, node: dict, value: str, run: Run, config: dict, listener: Listener) -> Stepped:
        context = NodeContext(
            session_state=run.session_state,
            participant_data=run.participant_data,
            temp_state=run.temp_state,
            node_outputs=dict(run.node_outputs),
            selected_routes=dict(run.selected_routes),
        )
        result = run_python_node(node["params"]["code"], value, context, self.limits)
        run.session_state = result.session_state
        run.participant_data = result.participant_data
        run.temp_state = result.temp_state
        for tag in result.message_tags:
            tagged(run, tag)
        run.session_tags.extend(tag for tag in result.session_tags if tag not in run.session_tags)
        run.ends_session = run.ends_session or result.ends_session
        if result.abort_message is not None:
            if result.abort_tag:
                run.message_tags.append(result.abort_tag)
            run.trace.append(traced(node, None, result.printed))
            raise Aborted(result.abort_message)
        return Stepped(result.output, printed=result.printed)


def tagged(run: Run, tag: str) -> None:
    if tag not in run.message_tags:
        run.message_tags.append(tag)


def keyword_named(params: dict, value) -> str:
    """The router's keyword the value names (in any case), or its default keyword."""
    keywords = params["keywords"]
    wanted = str(value).lower() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    named = next((keyword for keyword in keywords if keyword.lower() == wanted), None)
    return named or keywords[params["default_keyword_index"]]
