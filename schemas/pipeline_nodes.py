"""The node types a chatbot pipeline is built from, in Open Chat Studio's vocabulary (`LLMResponseWithPrompt`,
`CodeNode`, `RouterNode`, ...): each type's description, its outputs (the handles its edges leave by) and the
marshmallow schema of its `params`. The pipeline validator (`workers/pipelines/definition.py`) loads params with
these schemas and the node catalogue (`GET /api/v2/pipeline/nodes/`) is their JSON Schema, so a type is declared
here once. Only the params this server acts on are declared; any other is refused, never silently ignored."""

import json
from dataclasses import dataclass

from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from schemas.chatbots import PROVIDERS
from schemas.errors import ApiError

DOCUMENTATION_URL = "https://docs.openchatstudio.com/how-to/pipelines/nodes/"
# Far more than any chatbot needs; they bound the work of checking and running one, and keep it inside one event.
MAX_TEXT_CHARS = 100_000
MAX_NAME_CHARS = 255
MAX_KEYWORDS = 50
MAX_KEYWORD_CHARS = 100
DATA_SOURCES = ("participant_data", "session_state", "temp_state")
HISTORY_TYPES = ("global", "none")
# The providers a node may call, by the ids OCS's params carry: the chatbot's base URL and key are used for either.
PROVIDER_IDS = {number: provider for number, provider in enumerate(PROVIDERS, start=1)}
PROVIDER_LABELS = {"openai": "OpenAI-compatible (the chatbot's base URL)", "echo": "Echo (offline)"}


def provider_number(provider: str) -> int | None:
    return next((number for number, name in PROVIDER_IDS.items() if name == provider), None)


def text(description: str, required: bool = False, max_chars: int = MAX_TEXT_CHARS, **options) -> fields.String:
    return fields.String(
        required=required, validate=validate.Length(max=max_chars), metadata={"description": description}, **options
    )


def tag() -> fields.String:
    return text("Tag applied to this node's output message; blank means no tag.", max_chars=MAX_NAME_CHARS)


class Params(Schema):
    class Meta:
        unknown = RAISE


class LlmParams(Params):
    """The LLM a node calls: both ids are optional, and the chatbot's provider and model answer without them."""

    llm_provider_id = fields.Integer(
        validate=validate.OneOf(list(PROVIDER_IDS)),
        metadata={"title": "LLM Model", "description": "The provider this node calls (default: the chatbot's)."},
    )
    llm_provider_model_id = fields.Integer(
        metadata={
            "description": "The model's id from `/pipeline/options/` (default: the chatbot's model). This server "
            "knows models by name: the node's `llm.model` names it, and this id must be that name's.",
            "must_match": {"field": "llm_provider_id", "on": "type"},
        }
    )


class LLMResponseWithPromptParams(LlmParams):
    prompt = text("System prompt for the LLM call; reads `{input}`, `{session_state.x}`, ...", required=True)
    history_type = fields.String(
        load_default="global",
        validate=validate.OneOf(HISTORY_TYPES),
        metadata={"description": "`global`: the whole conversation so far goes with the call; `none`: none does."},
    )
    tag = tag()


class CodeNodeParams(Params):
    code = text("Python source defining a `main(input, **kwargs)` function.", required=True)
    tag = tag()


class KeywordParams(Params):
    keywords = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_KEYWORD_CHARS)),
        required=True,
        validate=validate.Length(min=1, max=MAX_KEYWORDS),
        metadata={"description": "Router branch labels, one per output handle (`output_0` maps to `keywords[0]`)."},
    )
    default_keyword_index = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "Index into `keywords` used when no branch matches."},
    )
    tag_output_message = fields.Boolean(
        load_default=False, metadata={"description": "Tag the output message with `<label>:<keyword>`."}
    )

    @validates_schema
    def check_keywords(self, data, **kwargs):
        keywords = data.get("keywords") or []
        if len(set(keywords)) != len(keywords):
            raise ValidationError("a keyword is listed twice", "keywords")
        if keywords and data.get("default_keyword_index", 0) >= len(keywords):
            raise ValidationError("is not the index of one of the keywords", "default_keyword_index")


class RouterNodeParams(KeywordParams, LlmParams):
    prompt = text("Prompt steering the LLM router's choice.", required=True)
    history_type = fields.String(
        load_default="none",
        validate=validate.OneOf(HISTORY_TYPES),
        metadata={"description": "`global`: the whole conversation so far goes with the call; `none`: none does."},
    )


class StaticRouterNodeParams(KeywordParams):
    data_source = fields.String(
        required=True,
        validate=validate.OneOf(DATA_SOURCES),
        metadata={"description": "Where the routing value is read from."},
    )
    route_key = text("Dotted key within the data source whose value selects the route.", required=True)


class RenderTemplateParams(Params):
    template_string = text(
        "Jinja2 template rendered against `input`, `session_state`, `participant_data` and `temp_state`.",
        required=True,
    )
    tag = tag()


class BooleanNodeParams(Params):
    input_equals = text("Value the node input is compared against to pick the true/false branch.", required=True)
    tag_output_message = fields.Boolean(
        load_default=False, metadata={"description": "Tag the output message with `<label>:true` or `<label>:false`."}
    )


class ExtractStructuredDataParams(LlmParams):
    data_schema = text("JSON object mapping field name to a description of the value to extract.", required=True)
    tag = tag()

    @validates_schema
    def check_data_schema(self, data, **kwargs):
        try:
            schema = json.loads(data.get("data_schema", "{}"))
        except ValueError:
            schema = None
        if not isinstance(schema, dict) or not schema:
            raise ValidationError("is not a JSON object of field names and descriptions", "data_schema")


class ExtractParticipantDataParams(ExtractStructuredDataParams):
    key_name = text(
        "Participant-data key the extracted values are stored under; blank stores them at the top level.",
        max_chars=MAX_NAME_CHARS,
        load_default="",
    )


class NoParams(Params):
    pass


@dataclass(frozen=True)
class Outputs:
    kind: str  # `single`, `per_keyword` or `none`, as OCS's catalogue says
    handles: tuple[str, ...] | None  # None: one per keyword, `output_{index}`
    description: str


SINGLE = Outputs("single", ("output",), "One output.")


@dataclass(frozen=True)
class NodeType:
    name: str
    description: str
    params: type[Params]
    outputs: Outputs = SINGLE
    prompt_variables: str | None = None  # which of `/pipeline/options/`' variable lists its text params read
    calls_llm: bool = False


NODE_TYPES = {
    node.name: node
    for node in (
        NodeType("StartNode", "The pipeline's start: its output is the participant's message.", NoParams),
        NodeType("EndNode", "The pipeline's end: its input is the reply.", NoParams, Outputs("none", (), "None.")),
        NodeType(
            "LLMResponseWithPrompt",
            "Uses an LLM to respond to the node input, with the rendered prompt as its system message.",
            LLMResponseWithPromptParams,
            prompt_variables="llm_prompt_variables",
            calls_llm=True,
        ),
        NodeType("CodeNode", "Runs Python code in a sandbox: its output is what `main` returns.", CodeNodeParams),
        NodeType(
            "RouterNode",
            "Routes the input to one of the linked nodes using an LLM; passes its input on.",
            RouterNodeParams,
            Outputs("per_keyword", None, "One output per entry in `keywords`."),
            prompt_variables="router_prompt_variables",
            calls_llm=True,
        ),
        NodeType(
            "StaticRouterNode",
            "Routes the input to a linked node by a value in the participant data, session state or temporary "
            "state; passes its input on.",
            StaticRouterNodeParams,
            Outputs("per_keyword", None, "One output per entry in `keywords`."),
        ),
        NodeType(
            "RenderTemplate",
            "Renders a Jinja template: its output is the rendered text.",
            RenderTemplateParams,
            prompt_variables="template_variables",
        ),
        NodeType(
            "BooleanNode",
            "Routes by whether the input equals `input_equals`; passes its input on.",
            BooleanNodeParams,
            Outputs("per_keyword", ("output_true", "output_false"), "`output_true` when equal, else `output_false`."),
        ),
        NodeType(
            "ExtractStructuredData",
            "Extracts structured data from the input with an LLM: its output is the data as a JSON object.",
            ExtractStructuredDataParams,
            calls_llm=True,
        ),
        NodeType(
            "ExtractParticipantData",
            "Extracts structured data from the input with an LLM and merges it into the participant's data; passes "
            "its input on.",
            ExtractParticipantDataParams,
            calls_llm=True,
        ),
    )
}
# The params that name a node's LLM: inspect shows them resolved, in the node's `llm`.
LLM_PARAMS = ("llm_provider_id", "llm_provider_model_id")
# OCS's params of what this server does not run (tools, citations, history compression, emails, assistants): a node
# carrying one is refused, and inspect never shows one.
OCS_ONLY_PARAMS = (
    "llm_model_parameters",
    "history_name",
    "history_mode",
    "max_history_length",
    "user_max_token_limit",
    "generate_citations",
    "max_indexed_collection_search_results",
    "tools",
    "built_in_tools",
    "tool_config",
    "mcp_tools",
    "citations_enabled",
    "input_formatter",
    "recipient_list",
    "subject",
    "body",
)
# What prompts and templates read (`/pipeline/options/`' variable lists): the same values, single-braced in prompts
# (`{participant_data.name}`), double-braced in Jinja templates (`{{ participant_data.name }}`), at any depth.
VARIABLES = (
    {"label": "input", "description": "The text passed into this node from the preceding one."},
    {"label": "session_state", "description": "State that survives for the whole session; `page_context` in it."},
    {"label": "participant_data", "description": "The participant's data for this chatbot."},
    {"label": "temp_state", "description": "State that lives for this message's run only."},
)
VARIABLE_LISTS = ("template_variables", "llm_prompt_variables", "router_prompt_variables")


def output_handles(node_type: str, params: dict) -> list[tuple[str, str | None]]:
    """The handles a node of this type and params offers, each (handle, the keyword it routes: routers only)."""
    outputs = NODE_TYPES[node_type].outputs
    if outputs.handles is None:
        return [(f"output_{index}", keyword) for index, keyword in enumerate(params.get("keywords", []))]
    if outputs.kind == "per_keyword":  # BooleanNode's two handles route `true` and `false`
        return [(handle, handle.removeprefix("output_")) for handle in outputs.handles]
    return [(handle, None) for handle in outputs.handles]


def params_json_schema(node_type: NodeType) -> dict:
    """The JSON Schema of a type's params, generated from its marshmallow schema (with OCS's `must_match`)."""
    schema = node_type.params()
    converter = OpenAPIConverter(openapi_version="3.1.0", schema_name_resolver=lambda _: None, spec=None)
    json_schema = {"title": node_type.name, **converter.schema2jsonschema(schema)}
    for name, field in schema.fields.items():
        if "must_match" in field.metadata:
            json_schema["properties"][name]["must_match"] = field.metadata["must_match"]
    return json_schema


def catalogue_entry(node_type: NodeType) -> dict:
    """One node type as `/pipeline/nodes/` serves it."""
    outputs = node_type.outputs
    shown = {"kind": outputs.kind, "handles": None if outputs.handles is None else list(outputs.handles)}
    if outputs.handles is None:
        shown["handle_pattern"] = "output_{index}"
    return {
        "type": node_type.name,
        "description": node_type.description,
        "documentation_url": DOCUMENTATION_URL,
        "outputs": {**shown, "description": outputs.description},
        "schema": params_json_schema(node_type),
    }


def node_type_named(name: str) -> NodeType:
    """The node type of that name, or the 404 OCS answers (`NodeTypeNotFound`), listing the types there are."""
    if name not in NODE_TYPES:
        raise ApiError(404, {"detail": f"Unknown node type {name!r}.", "valid_types": list(NODE_TYPES)})
    return NODE_TYPES[name]


def option_keys(node_type: NodeType) -> list[str]:
    """The keys of `/pipeline/options/` that building a node of this type uses: its params' option lists, the variable
    list its prompt or template reads, and the default LLM where it calls one."""
    keys = [name for name in node_type.params().fields if name in LLM_PARAMS]
    if node_type.prompt_variables:
        keys.append(node_type.prompt_variables)
    if node_type.calls_llm:
        keys.append("default_llm_provider")
    return keys
