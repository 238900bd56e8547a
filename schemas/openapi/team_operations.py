"""The text of the team API's operations (SPEC §3.1-3.8, §3.14): chatbots, sessions, participants, files."""

from schemas import responses as r
from schemas.openapi.building_blocks import (
    SESSION_ID,
    TEAM,
    answer,
    forbidden_read_only,
    json_body,
    json_errors,
    page_params,
    path_param,
    query_param,
    unauthenticated,
)
from schemas.openapi.documented_requests import TagsRequest, UpdateStateRequest
from schemas.requests import (
    ParticipantUpsertRequest,
    SessionCreateRequest,
)


def experiments_operations() -> dict:
    return {
        "experiment_list": {
            "summary": "List chatbots",
            "description": "The team's chatbots, newest first.",
            "tags": ["Experiments"],
            "security": TEAM,
            "parameters": page_params(),
            "responses": {
                "200": answer("a page of chatbots", r.PaginatedExperimentList),
                "401": unauthenticated(),
                "404": answer("`Invalid cursor`", r.Detail),
            },
        },
        "experiment_retrieve": {
            "summary": "Retrieve a chatbot",
            "tags": ["Experiments"],
            "security": TEAM,
            "parameters": [path_param("id", "the chatbot's id")],
            "responses": {
                "200": answer("the chatbot", r.Experiment),
                "401": unauthenticated(),
                "404": answer("no such chatbot in the team", r.Detail),
            },
        },
    }


def sessions_operations() -> dict:
    missing_session = answer("no such session in the team", r.Error)
    return {
        "session_list": {
            "summary": "List chatbot sessions",
            "description": "The team's sessions, newest first unless `ordering=created_at`.",
            "tags": ["Experiment Sessions"],
            "security": TEAM,
            "parameters": [
                *page_params(),
                query_param("experiment", "only this chatbot's sessions", type="string", format="uuid"),
                query_param("tags", "comma-separated: sessions with any of these tags"),
                query_param("versions", "comma-separated version tags (`v2`, `v3-unreleased`)"),
                query_param("ordering", "default `-created_at`", type="string", enum=["-created_at", "created_at"]),
            ],
            "responses": {
                "200": answer("a page of sessions, without messages", r.PaginatedExperimentSessionList),
                "400": answer("`experiment` is not a UUID", r.FieldErrors),
                "401": unauthenticated(),
                "404": answer("`Invalid cursor`", r.Detail),
            },
        },
        "session_create": {
            "summary": "Create a chatbot session",
            "description": "With optional history and state; `page_context` is kept in `state.page_context`. "
            "The chatbot does not answer here: continue with `incoming_message` and `session`.",
            "tags": ["Experiment Sessions"],
            "security": TEAM,
            "requestBody": json_body(SessionCreateRequest),
            "responses": {
                "201": answer(
                    "the session",
                    r.ExperimentSession,
                    headers={"Location": {"schema": {"type": "string", "format": "uri"}}},
                ),
                "400": answer("an invalid body, or an unknown chatbot", r.FieldErrors, r.Detail),
                "401": unauthenticated(),
                "403": forbidden_read_only(),
                "404": answer("the chatbot belongs to another team", r.Detail),
                **json_errors(),
            },
        },
        "session_retrieve": {
            "summary": "Retrieve a chatbot session",
            "description": "With its messages, oldest first, and its usage.",
            "tags": ["Experiment Sessions"],
            "security": TEAM,
            "parameters": [SESSION_ID],
            "responses": {
                "200": answer("the session", r.ExperimentSessionWithMessages),
                "401": unauthenticated(),
                "404": answer("no such session in the team", r.Detail),
            },
        },
        "session_end": {
            "summary": "End a chatbot session",
            "description": "Status `pending-review`. The chat endpoints still accept messages afterwards.",
            "tags": ["Experiment Sessions"],
            "security": TEAM,
            "parameters": [SESSION_ID],
            "responses": {
                "200": answer("ended; no body"),
                "401": unauthenticated(),
                "403": forbidden_read_only(),
                "404": missing_session,
            },
        },
        **{
            operation_id: {
                "summary": summary,
                "tags": ["Experiment Sessions"],
                "security": TEAM,
                "parameters": [SESSION_ID],
                "requestBody": json_body(TagsRequest),
                "responses": {
                    "200": answer("every tag now on the session", r.SessionTags),
                    "400": answer("no tags, or not a list of non-empty strings", r.Error, r.Detail),
                    "401": unauthenticated(),
                    "403": forbidden_read_only(),
                    "404": answer("no such session in the team", r.Error),
                    **json_errors(),
                },
            }
            for operation_id, summary in (
                ("session_add_tags", "Add tags to a session"),
                ("session_remove_tags", "Remove tags from a session (a JSON body, as for adding)"),
            )
        },
        "session_update_state": {
            "summary": "Replace a session's state",
            "tags": ["Experiment Sessions"],
            "security": TEAM,
            "parameters": [SESSION_ID],
            "requestBody": json_body(UpdateStateRequest),
            "responses": {
                "200": answer("the stored state", r.SessionStateUpdated),
                "400": answer("a missing or empty state, or one with `page_context`", r.Error, r.FieldErrors, r.Detail),
                "401": unauthenticated(),
                "403": forbidden_read_only(),
                "404": answer("no such session in the team", r.Error),
                **json_errors(),
            },
        },
    }


def participants_operations() -> dict:
    return {
        "list_participants": {
            "summary": "List participants",
            "description": "The team's participants, newest first, with their data per chatbot.",
            "tags": ["Participants"],
            "security": TEAM,
            "parameters": [
                *page_params(),
                query_param("identifier", "exact match"),
                query_param("platform", "exact match, e.g. `api`"),
                query_param("chatbot", "only participants with data for this chatbot", type="string", format="uuid"),
                query_param("experiment", "deprecated alias of `chatbot`", type="string", format="uuid"),
            ],
            "responses": {
                "200": answer("a page of participants", r.PaginatedParticipantDetailList),
                "400": answer("`chatbot` is not a UUID (the text is a plain string)", r.FieldErrors),
                "401": unauthenticated(),
                "404": answer("`Invalid cursor`", r.Detail),
            },
        },
        "update_participant_data": {
            "summary": "Create or update a participant, its data and schedules",
            "description": "A non-empty `data` replaces the chatbot's stored data. Every chatbot is checked "
            "before anything is written.",
            "tags": ["Participants"],
            "security": TEAM,
            "requestBody": json_body(ParticipantUpsertRequest),
            "responses": {
                "200": answer("the participant with all its data", r.ParticipantDetail),
                "400": answer("an invalid body", r.FieldErrors, r.Detail),
                "401": unauthenticated(),
                "403": forbidden_read_only(),
                "404": answer("chatbots the team does not have", r.ExperimentsNotFound),
                **json_errors(),
            },
        },
    }


def files_operations() -> dict:
    disposition = {"schema": {"type": "string"}, "description": 'attachment; filename="<name>"'}
    return {
        "file_content": {
            "summary": "Download a file's content",
            "tags": ["Files"],
            "security": TEAM,
            "parameters": [path_param("id", "the file's id", type_="integer")],
            "responses": {
                "200": {
                    "description": "the bytes; the content type is guessed from the file name",
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                    "headers": {"Content-Disposition": disposition},
                },
                "401": unauthenticated(),
                "404": answer("no such file in the team", r.Detail),
            },
        },
    }


def team_operations() -> dict:
    return {**experiments_operations(), **sessions_operations(), **participants_operations(), **files_operations()}
