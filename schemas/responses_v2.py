"""API v2's response bodies as marshmallow schemas, for v2's OpenAPI document (`schemas/openapi/v2_operations.py`),
named as OCS's v2 document names them. What v2 shares with v1 (the team, the error bodies) is v1's
(`schemas/responses.py`); nothing renders with these (`schemas/representations.py` does)."""

import copy

from marshmallow import Schema, fields, missing

from schemas import responses
from schemas.pipeline_nodes import LLM_PARAMS, NODE_TYPES, OCS_ONLY_PARAMS
from schemas.responses import Experiment, ExperimentVersion, Page, Representation, Team, one_of


class ChatbotVersion(ExperimentVersion):
    """v1's experiment version, under v2's name."""


class Chatbot(Experiment):
    """v1's experiment, under v2's name and at its v2 URL."""

    versions = fields.List(
        fields.Nested(ChatbotVersion),
        required=True,
        metadata={"description": "published versions, not archived, by `version_number`"},
    )


class PaginatedChatbotList(Page):
    results = fields.List(fields.Nested(Chatbot), required=True)


class Me(Representation):
    id = fields.Integer(
        required=True,
        metadata={"description": "the same number for the same user of the team on every call (derived from both)"},
    )
    username = fields.String(required=True, metadata={"description": "the identity the credential acts as"})
    email = fields.String(required=True, metadata={"description": "the identity, when it is an email address"})
    first_name = fields.String(required=True, metadata={"description": "always blank: no user names are kept here"})
    last_name = fields.String(required=True, metadata={"description": "always blank: no user names are kept here"})
    email_verified = fields.Boolean(required=True, metadata={"description": "always false: nothing verifies it"})
    team = fields.Nested(Team, required=True)


class TriggerBotChannel(Representation):
    platform = fields.String(required=True, metadata={"description": "the session's platform, e.g. `whatsapp`"})
    data = fields.Dict(
        required=True, metadata={"description": "platform-specific channel data: none for this server's channels"}
    )


class TriggerBotMessageResponse(responses.TriggerBotMessageResponse):
    """v1's answer, with the channel's platform nested beside its platform data."""

    channel = fields.Nested(TriggerBotChannel, required=True)


# The usage report (`GET /api/v2/usage/`): each block is present when its metric is asked for.
class MessageCounts(Representation):
    human = fields.Integer(required=True, metadata={"description": "messages participants sent"})
    ai = fields.Integer(required=True, metadata={"description": "messages the bot sent"})
    total = fields.Integer(required=True, metadata={"description": "human and AI messages"})


class Cost(Representation):
    total = fields.String(
        required=True, metadata={"format": "decimal", "description": "the tokens' price, with 8 decimals"}
    )
    currency = fields.String(required=True, metadata={"description": "the team's price table's (default USD)"})


class Tokens(Representation):
    prompt = fields.Integer(required=True, metadata={"description": "prompt tokens, as the providers reported them"})
    completion = fields.Integer(required=True, metadata={"description": "completion tokens, as reported"})
    total = fields.Integer(required=True, metadata={"description": "all tokens, as reported"})


class UsageResults(Representation):
    messages = fields.Nested(MessageCounts)
    sessions = fields.Integer(metadata={"description": "sessions started in the window"})
    participants = fields.Integer(metadata={"description": "distinct participants with a message in the window"})
    cost = fields.Nested(Cost)
    tokens = fields.Nested(Tokens)


class UsageBucketResult(UsageResults):
    bucket_start = fields.String(
        required=True, metadata={"format": "date-time", "description": "the bucket's start, in the request's `tz`"}
    )


class UsagePeriod(Representation):
    start = fields.String(required=True, metadata={"format": "date-time", "description": "inclusive"})
    end = fields.String(required=True, metadata={"format": "date-time", "description": "exclusive"})
    timezone = fields.String(required=True, metadata={"description": "the request's `tz`"})


class UsageResponse(Representation):
    """`granularity=total`, not grouped: one object of blocks."""

    period = fields.Nested(UsagePeriod, required=True)
    granularity = fields.String(required=True)
    group_by = fields.String(required=True, allow_none=True, metadata={"description": "always null here"})
    results = fields.Nested(UsageResults, required=True)


class UsageTimeseriesResponse(UsageResponse):
    """A finer `granularity`, not grouped: every bucket of the window, empty ones zero-filled."""

    results = fields.List(fields.Nested(UsageBucketResult), required=True)


class ParticipantIdentity(Representation):
    public_id = fields.String(required=True, metadata={"format": "uuid"})
    identifier = fields.String(required=True)
    platform = fields.String(required=True)


class ChatbotIdentity(Representation):
    public_id = fields.String(required=True, metadata={"format": "uuid"})
    name = fields.String(required=True)


class GroupedUsageRow(UsageResults):
    """Exactly one of `participant`, `chatbot` and `platform`, as `group_by` says; `bucket_start` with a finer
    `granularity`."""

    participant = fields.Nested(ParticipantIdentity)
    chatbot = fields.Nested(ChatbotIdentity)
    platform = fields.String(metadata={"description": "the channel platform's slug"})
    bucket_start = fields.String(metadata={"format": "date-time", "description": "the bucket's start, in `tz`"})


class GroupedUsageResponse(Page):
    """With `group_by`: rows per group (and bucket), in cursor pages; `count` is of groups."""

    period = fields.Nested(UsagePeriod, required=True)
    group_by = fields.String(required=True)
    results = fields.List(fields.Nested(GroupedUsageRow), required=True)


# The pipeline node catalogue (`GET /api/v2/pipeline/nodes/`) and the values node params take (`/pipeline/options/`).
class NodeOutputs(Representation):
    kind = one_of(("single", "per_keyword", "none"), required=True)
    handles = fields.List(
        fields.String(),
        required=True,
        allow_none=True,
        metadata={"description": "the `source_handle` values an edge may use; null when they depend on `keywords`"},
    )
    handle_pattern = fields.String(metadata={"description": "how a handle is named when `handles` is null"})
    description = fields.String(required=True)


class NodeType(Representation):
    type = fields.String(required=True, metadata={"description": "write this to a node's `type`"})
    description = fields.String(required=True)
    documentation_url = fields.String(metadata={"format": "uri"})
    outputs = fields.Nested(NodeOutputs, required=True)
    schema = fields.Dict(
        required=True,
        metadata={
            "description": "JSON Schema of the node's `params`, generated from the schema the pipeline validator "
            "loads them with; `must_match` pairs a model with its provider"
        },
    )


class NodeTypeNotFound(Representation):
    detail = fields.String(required=True)
    valid_types = fields.List(fields.String(), required=True, metadata={"description": "every type served"})


class ProviderOption(Representation):
    value = fields.Integer(required=True, metadata={"description": "write this into `llm_provider_id`"})
    label = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "`openai` (the chatbot's base URL) or `echo`"})


class LlmProviderModelOption(Representation):
    value = fields.Integer(required=True, metadata={"description": "the model's id, derived from its name"})
    label = fields.String(
        required=True, metadata={"description": "the model's name: write it as the node's `llm.model`"}
    )
    type = fields.String(required=True, metadata={"description": "the provider type that serves it"})
    max_token_limit = fields.Integer(metadata={"description": "never present: no limit is recorded here"})


class SyntheticVoiceOption(Representation):
    value = fields.Integer(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True)
    provider_id = fields.Integer(required=True, allow_none=True)


class ResourceOption(Representation):
    value = fields.Integer(required=True)
    label = fields.String(required=True)


class ToolOption(Representation):
    value = fields.String(required=True)
    label = fields.String(required=True)


class PromptVariable(Representation):
    label = fields.String(required=True, metadata={"description": "write this into the prompt or template, in braces"})
    description = fields.String(required=True)


class DefaultLlmProvider(Representation):
    llm_provider_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: a node without one calls its chatbot's"}
    )
    llm_provider_model_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: a node without one uses its chatbot's model"}
    )


def none_here(what: str) -> dict:
    return {"description": f"always empty: this server has no {what}"}


class PipelineOptions(Representation):
    """Every key from `/pipeline/options/`; from `/pipeline/options/{type}/`, the keys that type's params use."""

    llm_provider_id = fields.List(fields.Nested(ProviderOption))
    llm_provider_model_id = fields.List(
        fields.Nested(LlmProviderModelOption),
        metadata={"description": "the models the team's chatbots answer with and its price table names"},
    )
    synthetic_voice_id = fields.List(fields.Nested(SyntheticVoiceOption), metadata=none_here("voices"))
    source_material = fields.List(fields.Nested(ResourceOption), metadata=none_here("source material"))
    collection = fields.List(fields.Nested(ResourceOption), metadata=none_here("media collections"))
    collection_index = fields.List(fields.Nested(ResourceOption), metadata=none_here("indexed collections"))
    tools = fields.List(fields.Nested(ToolOption), metadata=none_here("bot tools"))
    custom_actions = fields.List(fields.Nested(ToolOption), metadata=none_here("custom actions"))
    built_in_tools = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(ToolOption)), metadata=none_here("built-in tools")
    )
    tool_config = fields.Dict(metadata=none_here("tool configuration"))
    template_variables = fields.List(
        fields.Nested(PromptVariable), metadata={"description": "what `template_string` reads, double-braced"}
    )
    llm_prompt_variables = fields.List(
        fields.Nested(PromptVariable), metadata={"description": "what an LLM node's `prompt` reads, single-braced"}
    )
    router_prompt_variables = fields.List(
        fields.Nested(PromptVariable), metadata={"description": "what a router's `prompt` reads, single-braced"}
    )
    default_llm_provider = fields.Nested(DefaultLlmProvider)


# The whole configuration of a chatbot version (`GET /api/v2/chatbots/{id}/inspect/`): what this server does not
# have (consent forms, voices, trace providers, assistants, collections, triggers, ...) is null or empty.
class Provider(Representation):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    name = fields.String(required=True)


class ConsentForm(Representation):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    consent_text = fields.String(required=True)
    capture_identifier = fields.Boolean()
    identifier_label = fields.String()
    identifier_type = one_of(("email", "text"))


class FlattenedVoice(Representation):
    provider_id = fields.Integer(allow_none=True)
    provider_name = fields.String(allow_none=True)
    synthetic_voice_id = fields.Integer(allow_none=True)
    type = fields.String(allow_none=True)
    voice_name = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    neural = fields.Boolean(allow_none=True)


class InspectSettings(Representation):
    seed_message = fields.String(required=True, metadata={"description": "always blank: no seed messages here"})
    conversational_consent_enabled = fields.Boolean(required=True, metadata={"description": "always false"})
    voice_response_behaviour = fields.String(required=True, metadata={"description": "always `never`: no voices"})
    echo_transcript = fields.Boolean(required=True, metadata={"description": "always false"})
    debug_mode_enabled = fields.Boolean(required=True, metadata={"description": "always false"})
    file_uploads_enabled = fields.Boolean(
        required=True, metadata={"description": "always true: every chat here accepts files"}
    )
    participant_allowlist = fields.List(fields.String(), required=True, metadata={"description": "always empty"})


class Channel(Representation):
    platform = fields.String(required=True, metadata={"description": "`embedded_widget` or a messaging platform"})
    name = fields.String(required=True, metadata={"description": "always blank: channels have no names here"})
    messaging_provider = fields.Nested(Provider, required=True, allow_none=True, metadata={"description": "null"})
    number = fields.String(allow_none=True)
    page_id = fields.String(allow_none=True)
    sureadhere_tenant_id = fields.String(allow_none=True)
    commcare_connect_bot_name = fields.String(allow_none=True)
    allow_all_domains = fields.Boolean(metadata={"description": "the widget's: whether it lists no domain"})
    allowed_domains = fields.List(fields.String(), metadata={"description": "the widget's"})


class InspectGraphNode(Representation):
    node_id = fields.String(required=True)
    type = fields.String(required=True)
    label = fields.String(required=True)


class InspectGraphEdge(Representation):
    id = fields.String(required=True, allow_none=True)
    source = fields.String(required=True)
    target = fields.String(required=True)
    source_handle = fields.String(required=True, allow_none=True)
    target_handle = fields.String(required=True, allow_none=True, metadata={"description": "always null"})


class InspectGraph(Representation):
    nodes = fields.List(fields.Nested(InspectGraphNode), required=True)
    edges = fields.List(fields.Nested(InspectGraphEdge), required=True)


class InspectOutputHandle(Representation):
    handle = fields.String(required=True)
    label = fields.String(required=True, allow_none=True, metadata={"description": "a router's keyword; else null"})


class FlattenedModelProvider(Representation):
    """A provider and one of its models, as ids (derived from their names here) and names."""

    provider_id = fields.Integer(allow_none=True)
    provider_name = fields.String(allow_none=True)
    model_id = fields.Integer(allow_none=True)
    type = fields.String(required=True, allow_none=True)
    model = fields.String(allow_none=True)


class FlattenedLlm(FlattenedModelProvider):
    max_token_limit = fields.Integer(allow_none=True, metadata={"description": "always null"})
    deprecated = fields.Boolean(allow_none=True, metadata={"description": "always null"})


class SourceMaterial(Representation):
    id = fields.Integer(required=True)
    topic = fields.String(required=True)
    description = fields.String(allow_none=True)
    material = fields.String(required=True)


class Assistant(Representation):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    assistant_id = fields.String(required=True)
    instructions = fields.String(required=True)
    builtin_tools = fields.List(fields.String())
    tools = fields.List(fields.String())
    temperature = fields.Float()
    top_p = fields.Float()


class ApiSchemaDigest(Representation):
    paths = fields.List(fields.String(), required=True)


class CustomAction(Representation):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    server_url = fields.String(required=True)
    allowed_operations = fields.List(fields.String(), required=True)
    api_schema = fields.Nested(ApiSchemaDigest, required=True)
    auth_provider = fields.Nested(Provider, required=True, allow_none=True)


class InspectFile(Representation):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    content_type = fields.String()
    content_size = fields.Integer(allow_none=True)
    external_source = fields.String()
    external_id = fields.String()


class MediaCollection(Representation):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    files = fields.List(fields.Nested(InspectFile), required=True)


class IndexedCollection(Representation):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    embedding = fields.Nested(FlattenedModelProvider, required=True, allow_none=True)
    files = fields.List(fields.Nested(InspectFile), required=True)


def inspect_node_params() -> type[Schema]:
    """Every param a node may show, each naming the types that have it: the params of `schemas/pipeline_nodes.py` (but
    the LLM's ids, which inspect shows in the node's `llm`), and OCS's params of what this server does not run."""
    shown: dict[str, fields.Field] = {}
    for node_type in NODE_TYPES.values():
        for name, field in node_type.params().fields.items():
            if name in LLM_PARAMS:
                continue
            if name not in shown:
                shown[name] = copy.copy(field)
                # Inspect shows every param as recorded; defaults differ by type (the catalogue says each one's).
                shown[name].required, shown[name].load_default = False, missing
                shown[name].metadata = {**field.metadata, "description": f"{field.metadata['description']} In:"}
            shown[name].metadata["description"] += f" {node_type.name}"
    never = {"description": "never present: OCS's param of what this server does not run"}
    return Schema.from_dict(
        {**shown, **{name: fields.Raw(metadata=never) for name in OCS_ONLY_PARAMS}}, name="InspectNodeParams"
    )


InspectNodeParams = inspect_node_params()


class InspectNode(Representation):
    node_id = fields.String(required=True)
    type = fields.String(required=True)
    label = fields.String(required=True)
    params = fields.Nested(InspectNodeParams, required=True, metadata={"description": "keys vary by node type"})
    output_handles = fields.List(fields.Nested(InspectOutputHandle), required=True)
    llm = fields.Nested(
        FlattenedLlm,
        allow_none=True,
        metadata={"description": "the LLM a node calls (the chatbot's unless the node names one); only on those"},
    )
    voice = fields.Nested(FlattenedVoice, allow_none=True, metadata=none_here("voices"))
    source_material = fields.Nested(SourceMaterial, allow_none=True, metadata=none_here("source material"))
    assistant = fields.Nested(Assistant, allow_none=True, metadata=none_here("assistants"))
    custom_actions = fields.List(fields.Nested(CustomAction), metadata=none_here("custom actions"))
    media_collection = fields.Nested(MediaCollection, allow_none=True, metadata=none_here("media collections"))
    indexed_collections = fields.List(fields.Nested(IndexedCollection), metadata=none_here("indexed collections"))


class InspectPipeline(Representation):
    id = fields.Integer(required=True, metadata={"description": "derived from the chatbot and the version"})
    name = fields.String(required=True, metadata={"description": "the chatbot's name"})
    version_number = fields.Integer()
    graph = fields.Nested(InspectGraph, required=True)
    nodes = fields.List(fields.Nested(InspectNode), required=True)


class PipelineBuildErrors(Representation):
    node = fields.Dict(required=True, metadata={"description": "always empty: only valid pipelines are recorded"})
    edge = fields.List(fields.String(), required=True, metadata={"description": "always empty"})
    pipeline = fields.List(fields.String(), required=True, metadata={"description": "always empty"})


class InspectTriggerAction(Representation):
    type = fields.String(required=True)
    params = fields.Dict(required=True)
    pipeline = fields.Nested(InspectPipeline)


class InspectStaticTrigger(Representation):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    is_active = fields.Boolean()
    action = fields.Nested(InspectTriggerAction, required=True)


class InspectTimeoutTrigger(Representation):
    id = fields.Integer(required=True)
    delay_seconds = fields.Integer(required=True)
    total_num_triggers = fields.Integer(required=True)
    trigger_from_first_message = fields.Boolean(required=True)
    is_active = fields.Boolean()
    action = fields.Nested(InspectTriggerAction, required=True)


class InspectEvents(Representation):
    static_triggers = fields.List(fields.Nested(InspectStaticTrigger), required=True, metadata=none_here("triggers"))
    timeout_triggers = fields.List(fields.Nested(InspectTimeoutTrigger), required=True, metadata=none_here("triggers"))


class ChatbotInspect(Representation):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    version_number = fields.Integer(metadata={"description": "the inspected version's"})
    is_unreleased = fields.Boolean(required=True, metadata={"description": "true for the working version"})
    is_published_version = fields.Boolean(required=True, metadata={"description": "true for the default version"})
    version_description = fields.String(required=True, metadata={"description": "blank for the working version"})
    team_slug = fields.String(required=True)
    settings = fields.Nested(InspectSettings, required=True)
    consent_form = fields.Nested(ConsentForm, required=True, allow_none=True, metadata=none_here("consent forms"))
    voice = fields.Nested(FlattenedVoice, required=True, allow_none=True, metadata=none_here("voices"))
    trace_provider = fields.Nested(Provider, required=True, allow_none=True, metadata=none_here("trace providers"))
    channels = fields.List(fields.Nested(Channel), required=True, metadata={"description": "widgets, then messaging"})
    pipeline = fields.Nested(
        InspectPipeline,
        required=True,
        metadata={"description": "how the version answers; a chatbot without one, as the one LLM node it amounts to"},
    )
    pipeline_valid = fields.Boolean(required=True, metadata={"description": "always true: pipelines are checked"})
    pipeline_errors = fields.Nested(PipelineBuildErrors, required=True)
    unwired_handles = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(InspectOutputHandle)),
        required=True,
        metadata={"description": "always empty: every handle of a recorded pipeline is wired"},
    )
    events = fields.Nested(InspectEvents, required=True)
