"""The text of the conversation operations: OpenAI-compatible completions, `incoming_message` and
`trigger_bot` (SPEC §3.9-3.13), and the chat API of websites (SPEC §3.15-3.19)."""

from schemas import responses as r
from schemas.openapi.building_blocks import (
    CHAT,
    CHAT_SESSION_ID,
    CHAT_START,
    EXPERIMENT_ID,
    TEAM,
    VERSION,
    answer,
    chat_refused,
    forbidden_read_only,
    json_body,
    json_errors,
    path_param,
    query_param,
    unauthenticated,
)
from schemas.openapi.documented_requests import ChatUploadFileRequest, CreateChatCompletionRequest
from schemas.requests import (
    ApiMessageRequest,
    ChatMessageRequest,
    ChatStartRequest,
    TriggerBotRequest,
)


def openai_operation(summary: str, parameters: list[dict]) -> dict:
    completion = answer(
        "the reply; with `stream: true`, server-sent chunks ending in `[DONE]`", r.CreateChatCompletionResponse
    )
    # Each event's data is a `chat.completion.chunk` object, and the last one is the text `[DONE]`.
    completion["content"]["text/event-stream"] = {
        "schema": {"description": "chat.completion.chunk objects, then [DONE]"}
    }
    return {
        "summary": summary,
        "description": "Each call stores the messages and the reply in a new session (`id`). Use OpenAI's "
        "client with `base_url` = `<this server>/api/openai/<experiment_id>` (plus `/v<version>`).",
        "tags": ["OpenAI"],
        "security": TEAM,
        "parameters": parameters,
        "requestBody": json_body(CreateChatCompletionRequest),
        "responses": {
            "200": completion,
            "400": answer(
                "no messages, the last not the user's, or non-text content", r.OpenAiError, r.FieldErrors, r.Detail
            ),
            "401": unauthenticated(),
            "403": forbidden_read_only(),
            "404": answer("no such chatbot in the team, or no such version", r.Detail),
            **json_errors(),
            "502": answer("the chatbot's LLM gave no reply", r.OpenAiError),
        },
    }


def incoming_message_operation(summary: str, parameters: list[dict]) -> dict:
    session_header = {"schema": {"type": "string"}, "description": "beyond OCS: the session the message went to"}
    return {
        "summary": summary,
        "description": "Talk to the chatbot as the API key's user. Without `session`, the caller's latest "
        "ongoing session with the chatbot continues (or a new one starts); `/reset` starts a new one.",
        "tags": ["Channels"],
        "security": TEAM,
        "parameters": parameters,
        "requestBody": json_body(ApiMessageRequest),
        "responses": {
            "200": answer("the reply", r.ApiResponseMessage, headers={"X-Session-Id": session_header}),
            "400": answer("an invalid body", r.FieldErrors, r.Detail),
            "401": unauthenticated(),
            "403": forbidden_read_only(),
            "404": answer("no such chatbot, version, or session of the caller's", r.Detail),
            **json_errors(),
            "502": answer("the chatbot's LLM gave no reply", r.Detail),
        },
    }


def conversation_operations() -> dict:
    return {
        "openai_chat_completions": openai_operation("Chat completions (OpenAI-compatible)", [EXPERIMENT_ID]),
        "openai_chat_completions_versioned": openai_operation(
            "Chat completions with a chosen version", [EXPERIMENT_ID, VERSION]
        ),
        "new_api_message": incoming_message_operation("Send a message and get the reply", [EXPERIMENT_ID]),
        "new_api_message_versioned": incoming_message_operation(
            "Send a message and get the reply of a chosen version",
            [EXPERIMENT_ID, VERSION],
        ),
        "trigger_bot_message": {
            "summary": "Have the bot message a participant on a messaging channel",
            "description": "Exactly one of `prompt_text` (goes through the chatbot) and `message_text` (sent as "
            "it is). `session_data` and `participant_data` are merged into what is stored. The message is "
            "delivered after the answer.",
            "tags": ["Channels"],
            "security": TEAM,
            "requestBody": json_body(TriggerBotRequest),
            "responses": {
                "200": answer("the session the message goes to", r.TriggerBotMessageResponse),
                "400": answer("an invalid body, or no channel of that platform", r.FieldErrors, r.Detail),
                "401": unauthenticated(),
                "403": forbidden_read_only(),
                "404": answer("no such chatbot in the team", r.Detail),
                **json_errors(),
            },
        },
    }


def chat_operations() -> dict:
    return {
        "chat_start_session": {
            "summary": "Start a chat session",
            "description": "Anonymously, or with a widget's embed key. `page_context` is kept in "
            "`state.page_context`; `session_data` is ignored for these callers.",
            "tags": ["Chat"],
            "security": CHAT_START,
            "requestBody": json_body(ChatStartRequest),
            "responses": {
                "201": answer("the session", r.ChatStartSessionResponse),
                "400": answer("an invalid body", r.FieldErrors, r.Detail),
                "401": answer("an invalid embed key, or any `Authorization` header", r.ChatAccessError, r.Detail),
                "403": answer("a disallowed origin, a disabled widget, or a `version_number`", r.Detail, r.Error),
                "404": answer("no such chatbot", r.Detail),
                **json_errors(),
            },
        },
        "chat_upload_file": {
            "summary": "Upload files for a later message",
            "tags": ["Chat"],
            "security": CHAT,
            "parameters": [CHAT_SESSION_ID],
            "requestBody": {
                "required": True,
                "content": {"multipart/form-data": {"schema": ChatUploadFileRequest}},
            },
            "responses": {
                "201": answer("the files, for `attachment_ids`", r.ChatUploadFileResponse),
                "400": answer("no files, a file too large or of an unsupported type, or an ended session", r.Error),
                "403": chat_refused(),
                "415": answer("not `multipart/form-data`", r.Detail),
            },
        },
        "chat_send_message": {
            "summary": "Send a message",
            "description": "The reply comes later: poll the task. `context` replaces `state.remote_context`.",
            "tags": ["Chat"],
            "security": CHAT,
            "parameters": [CHAT_SESSION_ID],
            "requestBody": json_body(ChatMessageRequest),
            "responses": {
                "202": answer("accepted", r.ChatSendMessageResponse),
                "400": answer(
                    "an invalid body, invalid attachments, or an ended session", r.FieldErrors, r.Error, r.Detail
                ),
                "403": chat_refused(),
                "404": answer("no such version", r.Detail),
                **json_errors(),
            },
        },
        "chat_poll_response": {
            "summary": "Fetch a session's messages, oldest first",
            "tags": ["Chat"],
            "security": CHAT,
            "parameters": [
                CHAT_SESSION_ID,
                query_param("since", "only messages created after this instant", type="string", format="date-time"),
                query_param("limit", "at most this many messages (default 50)", type="integer", minimum=0),
            ],
            "responses": {
                "200": answer("the messages", r.ChatPollResponse),
                "400": answer("an invalid `since` or `limit`", r.Error),
                "403": chat_refused(),
            },
        },
        "chat_poll_task_response": {
            "summary": "Poll the task of a sent message",
            "tags": ["Chat"],
            "security": CHAT,
            "parameters": [CHAT_SESSION_ID, path_param("task_id", "the `task_id` of the sent message")],
            "responses": {
                "200": answer("processing, or complete with the reply", r.ChatTaskPoll),
                "400": answer("the chatbot could not answer, for a reason the user may see", r.TaskError),
                "403": chat_refused(),
                "404": answer("the task belongs to another session", r.Detail),
                "500": answer("the chatbot could not answer", r.TaskError),
            },
        },
        "chat_cancel_task": {
            "summary": "Stop generating a reply (beyond OCS)",
            "description": "The reply to the task stops where it is: what was generated so far is recorded as the "
            'reply, with `{"cancelled": true}` in its metadata, and the task completes (poll it). Asking again '
            "while it stops changes nothing.",
            "tags": ["Chat"],
            "security": CHAT,
            "parameters": [CHAT_SESSION_ID, path_param("task_id", "the `task_id` of the sent message")],
            "responses": {
                "202": answer("stopping", r.ChatTaskCancelling),
                "403": chat_refused(),
                "404": answer("no such task in this session", r.Detail),
                "409": answer("`The task has already finished.`: nothing changes", r.Detail),
            },
        },
        "chat_stream": {
            "summary": "Follow a session's messages, and replies as they are generated (beyond OCS)",
            "description": "One `message` event per message (data: a Message with the `task_id` it asks or "
            "answers), `id` = its `created_at`. While a reply is generated, `delta` events come before its "
            'message: `{"task_id", "offset", "delta"}`, the reply so far being its first `offset` '
            "characters and then `delta` (a stream opened mid-reply first gets one delta with all of it so far; "
            "`offset` 0 starts the reply afresh). "
            "`Last-Event-ID` or `since` skips what the client has; the stream closes after five minutes.",
            "tags": ["Chat"],
            "security": CHAT,
            "parameters": [
                CHAT_SESSION_ID,
                query_param("since", "only messages created after this instant", type="string", format="date-time"),
                {"in": "header", "name": "Last-Event-ID", "required": False, "schema": {"type": "string"}},
                query_param("session_token", "the session token, for clients that cannot send `X-Session-Token`"),
                query_param("embed_key", "the widget's embed key, for clients that cannot send `X-Embed-Key`"),
            ],
            "responses": {
                "200": answer(
                    "the event stream", {"description": "one Message object per event"}, media="text/event-stream"
                ),
                "400": answer("an invalid `since`", r.Error),
                "403": chat_refused(),
            },
        },
    }
