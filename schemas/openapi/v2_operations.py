"""API v2's operations (OCS's `ocs-api-v2.yml`): their text, keyed by the view that serves each (its operation id,
OCS's), and the credentials v2's document names.

v2 is its own OpenAPI document (`schemas/openapi/document.py`), as in OCS: one operation id, `trigger_bot_message`,
names an operation of each version, and one document cannot hold two operations of one id."""

from schemas import responses as r
from schemas import responses_v2 as v2
from schemas.openapi.building_blocks import (
    API_KEY_AUTH,
    COOKIE_AUTH,
    NO_AUTH,
    TOKEN_AUTH,
    answer,
    forbidden_read_only,
    json_body,
    json_errors,
    oauth2_scheme,
    page_params,
    path_param,
    query_param,
    unauthenticated,
)
from schemas.openapi.document_operations import DOCUMENT
from schemas.requests import (
    MAX_IDENTIFIER_LENGTH,
    USAGE_GRANULARITIES,
    USAGE_GROUPS,
    USAGE_METRICS,
    USAGE_PERIODS,
    USAGE_PLATFORMS,
    TriggerBotRequest,
)

API_VERSION = "v2"

DESCRIPTION = """\
Open Chat Studio's REST API v2, wire-compatible with Open Chat Studio, served by an event-driven backend beside v1
(whose document is `GET /api/schema/`). v2's paths are served under `/api/v2/` only.

- The same credentials as v1: an API key as `X-api-key: <key>` or `Authorization: Bearer <key>` (a read-only key may
  only read), an OAuth2 access token from `/o/token/` as `Authorization: Bearer <token>`, limited by its scopes, or the
  cookie of a web page signed in with `POST /api/auth/session/`.
- v2 calls chatbots what v1 calls experiments: the same chatbots, ids and versions.
- Pipelines are written in OCS's node vocabulary: `/pipeline/nodes/` lists the node types this server runs, with the
  JSON Schema of each one's params, and `/chatbots/{id}/inspect/` shows a chatbot's pipeline as a graph of them.
"""

SCOPE_DESCRIPTIONS = {
    "chatbots:read": "List and Retrieve Chatbot Data",
    "chatbots:interact": "Converse with a Chatbot and trigger bot messages",
    "chat:start": "Start a chat session",
    "sessions:read": "List and Read Sessions",
    "sessions:write": "Manage Sessions",
    "files:read": "Download file content",
    "participants:read": "Read Participant Data",
    "participants:write": "Update Participant Data",
    "usage:read": "Read usage and activity data",
}

# OCS's v2 names for the credentials, and the sign-in cookie this server also takes.
SECURITY_SCHEMES = {
    "OAuth2": oauth2_scheme(SCOPE_DESCRIPTIONS),
    "apiKeyAuth": API_KEY_AUTH,
    "tokenAuth": TOKEN_AUTH,
    "cookieAuth": COOKIE_AUTH,
}

TAGS = [
    {"name": "Chatbots", "description": "List and retrieve chatbots (v2; formerly 'experiments')."},
    {"name": "Me", "description": "The identity the credential acts as, and its team."},
    {"name": "Pipelines", "description": "The node types a pipeline is built from, and the values their params take."},
    {"name": "Usage", "description": "Inspect team usage and activity data (message counts, and more)."},
    {"name": "Channels", "description": "Trigger bot messages or deliver messages directly to users on a channel."},
    {"name": "Documents", "description": "Beyond OCS: this document."},
]


def team_security(scope: str | None) -> list[dict]:
    """v2's credentials for an operation a token needs `scope` for (None: any token of the team)."""
    return [{"OAuth2": [scope] if scope else []}, {"apiKeyAuth": []}, {"tokenAuth": []}, {"cookieAuth": []}]


USAGE_DESCRIPTION = """\
The team's usage in a window, one block per `metric` asked for: `messages` (human / AI / total), `sessions` (started
in the window and engaged), `participants` (distinct, with a message in the window), `tokens` (prompt / completion /
total, as the providers reported them) and `cost` (the tokens priced by the team's price table, `ocs admin
set-model-price`, per million tokens of each model; tokens of a model without a price cost nothing).

The window is `start` (included) to `end` (excluded), read in `tz` when they name no offset, or a calendar `period`
in `tz` (the current month by default). It is counted in quarter hours: a quarter hour counts when it starts inside
the window. Messages count when they are sent; sessions when they start, once a participant has said something in
them (never-engaged sessions are left out). `granularity` finer than `total` gives every bucket of the window (days,
weeks from Monday, months in `tz`, empty ones zero-filled); at most 366. `group_by` gives cursor-paginated rows per
group (and bucket, zero-filled), in the order of the group's id; `count` (of groups) on the first page.
`participant`, `participant_identifier`, `chatbot` and `platform` narrow it; another team's ids match nothing.

Beyond OCS: sessions of the team's API channel count under the `api` platform."""


INSPECT_DESCRIPTION = """\
A chatbot version's whole configuration as one read-only document: its settings, channels, and its pipeline as a
graph of nodes in OCS's vocabulary with each node's params and the LLM it calls (a chatbot without a pipeline shows the
one `LLMResponseWithPrompt` node its prompt amounts to). What this server does not have (consent forms, voices, trace
providers, assistants, collections, triggers) is null or empty. The pipeline's `graph` and `nodes`, fed back to `ocs
admin publish-version --pipeline`, record the same pipeline."""

OPTIONS_DESCRIPTION = """\
The values node params take, for the team: `llm_provider_id` (the providers a node may call; the chatbot's base URL
and key reach either) and `llm_provider_model_id` (the models the team's chatbots answer with and its price table
names; write the model's name as the node's `llm.model`), and the variables prompts (single-braced: `{input}`) and
templates (double-braced: `{{ input }}`) read. Lists of what this server does not have (voices, source material,
collections, tools, custom actions) are empty."""


def node_type_param() -> dict:
    return path_param("node_type", "the type's name, as a `/pipeline/nodes/` entry's `type`")


def usage_params() -> list[dict]:
    return [
        {
            **query_param(
                "metric",
                "a metric to report; repeat the parameter for several",
                type="array",
                items={"type": "string", "enum": list(USAGE_METRICS)},
            ),
            "required": True,
        },
        query_param("period", "a calendar month in `tz`, instead of `start`/`end`", enum=list(USAGE_PERIODS)),
        query_param("start", "inclusive start (ISO date or datetime); requires `end`", format="date-time"),
        query_param("end", "exclusive end (ISO date or datetime); requires `start`", format="date-time"),
        query_param("granularity", "time buckets (default `total`)", enum=list(USAGE_GRANULARITIES)),
        query_param("group_by", "one row per group (and bucket)", enum=list(USAGE_GROUPS)),
        query_param("tz", "IANA timezone of the window and the buckets (default `UTC`)"),
        query_param("chatbot", "only this chatbot's usage", format="uuid"),
        query_param("participant", "only this participant's usage", format="uuid"),
        query_param(
            "participant_identifier",
            "only the usage of the participants of this identifier",
            maxLength=MAX_IDENTIFIER_LENGTH,
        ),
        query_param("platform", "only this channel platform's usage", enum=list(USAGE_PLATFORMS)),
        *page_params(),
    ]


def v2_operations() -> dict:
    return {
        "chatbot_list": {
            "summary": "List Chatbots",
            "description": "List the chatbots belonging to the API key's team, newest first.",
            "tags": ["Chatbots"],
            "security": team_security("chatbots:read"),
            "parameters": page_params(),
            "responses": {
                "200": answer("a page of chatbots", v2.PaginatedChatbotList),
                "401": unauthenticated(),
                "403": answer("a token without `chatbots:read`, or a key whose role may not view chatbots", r.Detail),
                "404": answer("`Invalid cursor`", r.Detail),
            },
        },
        "chatbot_retrieve": {
            "summary": "Retrieve Chatbot",
            "description": "Retrieve a single chatbot by its ID.",
            "tags": ["Chatbots"],
            "security": team_security("chatbots:read"),
            "parameters": [path_param("id", "Chatbot ID", format_="uuid")],
            "responses": {
                "200": answer("the chatbot", v2.Chatbot),
                "401": unauthenticated(),
                "403": answer("a token without `chatbots:read`, or a key whose role may not view chatbots", r.Detail),
                "404": answer("no such chatbot in the team", r.Detail),
            },
        },
        "chatbot_inspect": {
            "summary": "Inspect Chatbot",
            "description": INSPECT_DESCRIPTION,
            "tags": ["Chatbots"],
            "security": team_security("chatbots:read"),
            "parameters": [
                path_param("id", "Chatbot ID", format_="uuid"),
                query_param(
                    "version",
                    "which version: a version number, `default` for the default published version (the working "
                    "version while none is published), or omit it for the working (draft) version",
                ),
            ],
            "responses": {
                "200": answer("the version's whole configuration", v2.ChatbotInspect),
                "401": unauthenticated(),
                "403": answer("a token without `chatbots:read`, or a key whose role may not view chatbots", r.Detail),
                "404": answer("no such chatbot in the team, or no such version of it", r.Detail),
                "503": answer("a read model built before configurations were kept: rebuild it", r.Detail),
            },
        },
        "pipeline_node_list": {
            "summary": "List Pipeline Node Types",
            "description": "The node types a pipeline can contain, with the JSON Schema of each one's `params` "
            "(generated from the schemas the pipeline validator loads them with) and the outputs its edges leave by. "
            "Static per deploy: revalidate a cached copy with `If-None-Match` against the `ETag`.",
            "tags": ["Pipelines"],
            "security": team_security("chatbots:read"),
            "responses": {
                "200": answer("every node type", v2.NodeType(many=True)),
                "304": answer("unchanged since the `ETag` sent as `If-None-Match`"),
                "401": unauthenticated(),
                "403": answer("a token without `chatbots:read`, or a key whose role may not view chatbots", r.Detail),
            },
        },
        "pipeline_node_retrieve": {
            "summary": "Retrieve a Pipeline Node Type",
            "description": "One node type, as `/pipeline/nodes/` serves it. Static per deploy (`ETag`).",
            "tags": ["Pipelines"],
            "security": team_security("chatbots:read"),
            "parameters": [node_type_param()],
            "responses": {
                "200": answer("the node type", v2.NodeType),
                "304": answer("unchanged since the `ETag` sent as `If-None-Match`"),
                "401": unauthenticated(),
                "403": answer("a token without `chatbots:read`, or a key whose role may not view chatbots", r.Detail),
                "404": answer("no such node type: the body lists those there are", v2.NodeTypeNotFound),
            },
        },
        "pipeline_options": {
            "summary": "List Pipeline Node Options",
            "description": OPTIONS_DESCRIPTION,
            "tags": ["Pipelines"],
            "security": team_security("chatbots:read"),
            "responses": {
                "200": answer("the values of every node param that takes one of a set", v2.PipelineOptions),
                "401": unauthenticated(),
                "403": answer("a token without `chatbots:read`, or a key whose role may not view chatbots", r.Detail),
            },
        },
        "pipeline_node_options": {
            "summary": "List One Node Type's Options",
            "description": "The keys of `/pipeline/options/` this node type's params use, the variable list its prompt "
            "or template reads, and `default_llm_provider` where it calls an LLM; `{}` for a type with none.",
            "tags": ["Pipelines"],
            "security": team_security("chatbots:read"),
            "parameters": [node_type_param()],
            "responses": {
                "200": answer("the type's options", v2.PipelineOptions),
                "401": unauthenticated(),
                "403": answer("a token without `chatbots:read`, or a key whose role may not view chatbots", r.Detail),
                "404": answer("no such node type: the body lists those there are", v2.NodeTypeNotFound),
            },
        },
        "me": {
            "summary": "Current User",
            "description": "The identity the credential acts as (an API key's user, or the user who consented to an "
            "authorization-code token) and the team the credential is scoped to. Any credential of the team may ask, "
            "read-only keys and tokens of any scope included; a machine token acts as no user and is refused.",
            "tags": ["Me"],
            "security": team_security(None),
            "responses": {
                "200": answer("the user and their team", v2.Me),
                "401": unauthenticated(),
                "403": answer("a machine token (client credentials): it acts as no user", r.Detail),
            },
        },
        "usage": {
            "summary": "Usage",
            "description": USAGE_DESCRIPTION,
            "tags": ["Usage"],
            "security": team_security("usage:read"),
            "parameters": usage_params(),
            "responses": {
                "200": answer(
                    "the report: one object (`total`), every bucket (a finer `granularity`), or a page of rows per "
                    "group (and bucket) with `group_by`",
                    v2.UsageResponse,
                    v2.UsageTimeseriesResponse,
                    v2.GroupedUsageResponse,
                ),
                "400": answer(
                    "an invalid parameter (keyed by its name), or a window that is empty, mixes `period` with "
                    "`start`/`end`, or spans more than 366 buckets (`non_field_errors`)",
                    r.FieldErrors,
                ),
                "401": unauthenticated(),
                "403": answer("a token without `usage:read`, or a key whose role may not view sessions", r.Detail),
                "404": answer("`Invalid cursor`", r.Detail),
            },
        },
        "trigger_bot_message": {
            "summary": "Trigger the bot to send a message to the user, or deliver a message directly",
            "description": "Exactly one of `prompt_text` (goes through the chatbot) and `message_text` (sent as it "
            "is). The participant is created if it does not exist; `session_data` and `participant_data` are merged "
            "into what is stored, and `start_new_session` ends the participant's ongoing session first. The message "
            "is delivered after the answer. As v1's `POST /api/trigger_bot`, but `channel` is `{platform, data}`.",
            "tags": ["Channels"],
            "security": team_security("chatbots:interact"),
            "requestBody": json_body(TriggerBotRequest),
            "responses": {
                "200": answer("the session the message goes to", v2.TriggerBotMessageResponse),
                "400": answer("an invalid body, or no channel of that platform", r.FieldErrors, r.Detail),
                "401": unauthenticated(),
                "403": forbidden_read_only(),
                "404": answer("no such chatbot in the team", r.Detail),
                **json_errors(),
            },
        },
        "schema_v2": {
            "summary": "This OpenAPI document (beyond OCS)",
            "tags": ["Documents"],
            "security": NO_AUTH,
            "parameters": [query_param("format", "`json`, the only format (the default)")],
            "responses": {
                "200": answer("the OpenAPI 3 document of API v2", DOCUMENT),
                "304": answer("unchanged since the `ETag` sent as `If-None-Match`"),
                "404": answer("a format other than `json`", r.Detail),
            },
        },
    }
