"""Response bodies (SPEC §2), rendered from read-model-shaped documents.

The query API renders MongoDB documents; the command API renders the same shapes built from the write
model, so a `POST` answers exactly what a `GET` of the same object shows.
"""

import json

from schemas import ids, pipeline_graph, responses_api


def experiment_url(base_url: str, chatbot_id: str) -> str:
    return f"{base_url}api/experiments/{chatbot_id}/"


def chatbot_url(base_url: str, chatbot_id: str) -> str:
    """Where API v2 serves a chatbot."""
    return f"{base_url}api/v2/chatbots/{chatbot_id}/"


def session_url(base_url: str, session_id: str) -> str:
    return f"{base_url}api/sessions/{session_id}/"


def experiment(chatbot: dict, base_url: str) -> dict:
    default = chatbot.get("default_version_number")
    return {
        "id": chatbot["_id"],
        "name": chatbot["name"],
        "url": experiment_url(base_url, chatbot["_id"]),
        "version_number": chatbot["version_number"],
        "versions": [
            {
                "name": version["name"],
                "version_number": version["version_number"],
                "is_default_version": version["version_number"] == default,
                "version_description": version["version_description"],
            }
            for version in sorted(chatbot["versions"], key=lambda v: v["version_number"])
            if not version.get("archived")
        ],
    }


def chatbot(doc: dict, base_url: str) -> dict:
    """API v2's Chatbot: v1's experiment, at its v2 URL."""
    return {**experiment(doc, base_url), "url": chatbot_url(base_url, doc["_id"])}


def chatbot_inspect(chatbot: dict, number: int, description: str, configuration: dict, channels: list[dict]) -> dict:
    """API v2's ChatbotInspect of one version: its `configuration` as the read model keeps it (`projectors/projections/
    chatbots.py`), its pipeline in the graph form; what this server does not have is null or empty, never made up."""
    recorded = configuration["pipeline"]
    if recorded:
        graph = pipeline_graph.in_graph_form(json.loads(recorded))
    else:
        graph = pipeline_graph.prompt_pipeline(configuration["prompt"])
    return {
        "id": chatbot["_id"],
        "name": chatbot["name"],
        "description": chatbot["description"],
        "version_number": number,
        "is_unreleased": number == chatbot["version_number"],
        "is_published_version": number == chatbot.get("default_version_number"),
        "version_description": description,
        "team_slug": chatbot["team"],
        "settings": {
            "seed_message": "",
            "conversational_consent_enabled": False,
            "voice_response_behaviour": "never",
            "echo_transcript": False,
            "debug_mode_enabled": False,
            "file_uploads_enabled": True,
            "participant_allowlist": [],
        },
        "consent_form": None,
        "voice": None,
        "trace_provider": None,
        "channels": [inspected_channel(channel) for channel in channels],
        "pipeline": {
            "id": ids.pipeline_number(chatbot["_id"], number),
            "name": chatbot["name"],
            "version_number": number,
            **pipeline_graph.inspected(graph, configuration["provider"], configuration["model"]),
        },
        "pipeline_valid": True,
        "pipeline_errors": {"node": {}, "edge": [], "pipeline": []},
        "unwired_handles": {},
        "events": {"static_triggers": [], "timeout_triggers": []},
    }


def inspected_channel(doc: dict) -> dict:
    """A widget channel (it has `allowed_domains`) or a messaging one; channels here have no names."""
    if "allowed_domains" in doc:
        domains = {"allow_all_domains": "*" in doc["allowed_domains"], "allowed_domains": doc["allowed_domains"]}
        return {"platform": "embedded_widget", "name": "", "messaging_provider": None, **domains}
    return {"platform": doc["platform"], "name": "", "messaging_provider": None}


def experiment_stub(chatbot: dict, base_url: str) -> dict:
    return {
        "id": chatbot["_id"],
        "name": chatbot["name"],
        "description": chatbot["description"],
        "url": experiment_url(base_url, chatbot["_id"]),
        "version_number": chatbot["version_number"],
    }


def session(doc: dict, chatbot: dict, team_doc: dict, base_url: str) -> dict:
    return {
        "url": session_url(base_url, doc["_id"]),
        "id": doc["_id"],
        "team": team(team_doc),
        "experiment": experiment_stub(chatbot, base_url),
        "participant": {"identifier": doc["participant"]["identifier"], "remote_id": doc["participant"]["remote_id"]},
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
        "status": doc["status"],
        "platform": doc["platform"],
        "tags": doc["tags"],
        "state": json.loads(doc["state"]),
    }


def file_url(base_url: str, file_id: int) -> str:
    return f"{base_url}api/files/{file_id}/content"


def message(doc: dict, base_url: str) -> dict:
    return {
        "created_at": doc["created_at"],
        "role": doc["role"],
        "content": doc["content"],
        "metadata": json.loads(doc["metadata"]),
        "tags": doc["tags"],
        "attachments": [
            {
                "name": attachment["name"],
                "content_type": attachment["content_type"],
                "size": attachment["size"],
                "content_url": file_url(base_url, attachment["id"]),
            }
            for attachment in doc["attachments"]
        ],
    }


def task_cancelling(task_id: str) -> dict:
    """A stop was asked for: the task completes once the worker has recorded what it generated."""
    return {"task_id": task_id, "status": "cancelling"}


def streamed_message(doc: dict, base_url: str) -> dict:
    """A message as the chat stream sends it: with the task it asks or answers (null for others)."""
    return {**message(doc, base_url), "task_id": doc.get("task_id")}


def reply_delta(task_id: str, offset: int, text: str) -> dict:
    """Text to add to a reply while it is generated: the reply so far is its first `offset` characters, then this."""
    return {"task_id": task_id, "offset": offset, "delta": text}


NO_USAGE = {"total_cost": "0.00000000", "by_model": []}


def session_with_messages(doc: dict, chatbot: dict, team_doc: dict, messages: list[dict], base_url: str) -> dict:
    return {
        **session(doc, chatbot, team_doc, base_url),
        "messages": [message(m, base_url) for m in messages],
        "usage": NO_USAGE,
    }


def participant_detail(doc: dict, chatbots: dict[str, dict], only_chatbot: str | None = None) -> dict:
    """ParticipantDetail: its data for every chatbot of the team (or for `only_chatbot`)."""
    return {
        "id": doc["_id"],
        "identifier": doc["identifier"],
        "name": doc["name"],
        "platform": doc["platform"],
        "remote_id": doc["remote_id"],
        "data": [
            {
                "chatbot": chatbots[chatbot_id]["name"],
                "chatbot_id": chatbot_id,
                "data": json.loads(stored),
                "connect_channel_id": None,
            }
            for chatbot_id, stored in doc["data"].items()
            if chatbot_id in chatbots and only_chatbot in (None, chatbot_id)
        ],
    }


def session_tags(tags: list[str]) -> dict:
    return {"tags": tags}


def session_state(state: dict) -> dict:
    return {"success": True, "state": state}


def team(doc: dict) -> dict:
    return {"name": doc["name"], "slug": doc["team"]}


def bot_triggered(session_id: str, team_doc: dict, channel: str | None, base_url: str) -> dict:
    return {
        "session_id": session_id,
        "url": session_url(base_url, session_id),
        "team": team(team_doc),
        "channel": channel,
    }


def bot_triggered_v2(session_id: str, team_doc: dict, channel: str | None, base_url: str) -> dict:
    """API v2 nests the channel's platform beside its platform data; no channel here has any (CommCare Connect's
    `external_channel_id` is the only kind OCS has)."""
    return {**bot_triggered(session_id, team_doc, channel, base_url), "channel": {"platform": channel, "data": {}}}


def me(user: str, user_id: int, team_doc: dict) -> dict:
    """API v2's Me. This server keeps no user accounts (`infra/authentication.py`): the user is the identity a
    credential acts as, so the names are unknown (blank) and no address was ever verified."""
    return {
        "id": user_id,
        "username": user,
        "email": user if "@" in user else "",
        "first_name": "",
        "last_name": "",
        "email_verified": False,
        "team": team(team_doc),
    }


def chat_started(session_id: str, session_token: str | None, chatbot: dict, participant: dict, base_url: str) -> dict:
    return {
        "session_id": session_id,
        "session_token": session_token,
        "chatbot": experiment(chatbot, base_url),
        "participant": {"identifier": participant["identifier"], "remote_id": participant["remote_id"]},
    }


def files_uploaded(files: list[dict]) -> dict:
    return {
        "files": [
            {"id": f["file_id"], "name": f["name"], "size": f["size"], "content_type": f["content_type"]} for f in files
        ]
    }


def message_accepted(task_id: str) -> dict:
    return {"task_id": task_id, "status": "processing"}


def messages_poll(messages: list[dict], has_more: bool, session_status: str, base_url: str) -> dict:
    return {
        "messages": [message(doc, base_url) for doc in messages],
        "has_more": has_more,
        "session_status": "ended" if session_status == "complete" else "active",
    }


def task_poll(reply: dict | None, base_url: str) -> dict:
    """A task still processing (no reply yet), or complete with its reply."""
    if reply is None:
        return {"message": None, "status": "processing"}
    return {"message": message(reply, base_url), "status": "complete"}


def completion(completion_id: str, created: int, text: str) -> dict:
    return {
        "id": completion_id,
        "created": created,
        "model": "",
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
    }


def completion_chunk(completion_id: str, created: int, delta: dict, finish_reason: str | None = None) -> dict:
    """One of OpenAI's streamed chunks: a delta of the message (`{"role": ...}`, `{"content": ...}`, or `{}` with
    the finish reason)."""
    return {
        "id": completion_id,
        "created": created,
        "model": "",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def completion_usage_chunk(completion_id: str, created: int, usage: dict | None) -> dict:
    """The last chunk when the client asked for usage (`stream_options.include_usage`): no choices."""
    return {
        "id": completion_id,
        "created": created,
        "model": "",
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def model_response(response: dict, text: str | None) -> dict:
    """A Responses API response, from its read-model document (`schemas/read_models.py` RESPONSES's shape); its
    output, the reply `text`, once its status is `completed`."""
    completed = response["status"] == "completed"
    usage = response["usage"]
    previous = response["previous_response_id"]
    return {
        "id": responses_api.response_id(response["_id"]),
        "object": "response",
        "created_at": response["created_at"],
        "status": response["status"],
        "error": {"code": "server_error", "message": response["error"]} if response["error"] else None,
        "incomplete_details": None,
        "instructions": response["instructions"],
        "metadata": dict(response["metadata"]),
        "model": response["model"],
        "output": [response_output_message(response["task_id"], text or "", "completed")] if completed else [],
        "output_text": text or "" if completed else "",
        "parallel_tool_calls": False,
        "previous_response_id": responses_api.response_id(previous) if previous else None,
        "store": response["store"],
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "none",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["total_tokens"],
        }
        if usage
        else None,
    }


def response_output_message(task_id: str, text: str | None, status: str) -> dict:
    """The response's one output item: the reply to its task (no content while it is starting: `text` None)."""
    return {
        "id": responses_api.message_item_id(task_id),
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": [] if text is None else [output_text(text)],
    }


def output_text(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def response_input_items(messages: list[dict], has_more: bool) -> dict:
    """A response's input items (session messages, read-model shaped), as OpenAI lists them."""
    data = [
        {
            "id": responses_api.message_item_id(message["_id"]),
            "type": "message",
            "role": message["role"],
            "status": "completed",
            "content": [
                output_text(message["content"])
                if message["role"] == "assistant"
                else {"type": "input_text", "text": message["content"]}
            ],
        }
        for message in messages
    ]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def response_deleted(aggregate_id: str) -> dict:
    return {"id": responses_api.response_id(aggregate_id), "object": "response.deleted", "deleted": True}


def response_stream_event(event_type: str, sequence_number: int, **fields) -> dict:
    """One of the Responses API's server-sent events (`response.created`, `response.output_text.delta`, ...)."""
    return {"type": event_type, "sequence_number": sequence_number, **fields}


def api_reply(text: str, session_id: str) -> dict:
    # Beyond OCS (its issue #653): the session this message went to, so a client can follow it.
    return {"response": text, "attachments": [], "session_id": session_id}


def consent_request(
    client_id: str, client_name: str, team: str, user: str, scopes: list[str], redirect_uri: str
) -> dict:
    return {
        "client_id": client_id,
        "client_name": client_name,
        "team": team,
        "user": user,
        "scopes": scopes,
        "redirect_uri": redirect_uri,
        "consent": "POST this URL with allow=yes to grant, anything else to deny",
    }


def event_page(envelopes: list[dict], after: int) -> dict:
    """A page of the event feed; `next`: the cursor to ask after for what follows (the same one while nothing has)."""
    return {"events": envelopes, "next": str(envelopes[-1]["position"] if envelopes else after)}


def cookie_session(team: str, user: str | None, read_only: bool, expires_at: str, csrf_token: str) -> dict:
    """A signed-in page's session: whom its cookie acts as, until when, and the token its unsafe requests send."""
    return {"team": team, "user": user, "read_only": read_only, "expires_at": expires_at, "csrf_token": csrf_token}


# API v2's usage report (`GET /api/v2/usage/`): one block per metric asked for, from plain counts
# (`query_api/queries/usage.py`): human, ai, sessions, participants, prompt, completion, total, cost, currency.
COST_PLACES = 8


def usage_metrics(counts: dict, metrics: list[str]) -> dict:
    blocks = {
        "messages": lambda: {"human": counts["human"], "ai": counts["ai"], "total": counts["human"] + counts["ai"]},
        "sessions": lambda: counts["sessions"],
        "participants": lambda: counts["participants"],
        "cost": lambda: {"total": f"{counts['cost']:.{COST_PLACES}f}", "currency": counts["currency"]},
        "tokens": lambda: {"prompt": counts["prompt"], "completion": counts["completion"], "total": counts["total"]},
    }
    return {metric: blocks[metric]() for metric in metrics}


def usage_period(start, end, timezone: str) -> dict:
    """The window's bounds (aware datetimes) in the request's timezone."""
    return {"start": start.isoformat(), "end": end.isoformat(), "timezone": timezone}


def usage_report(period: dict, granularity: str, results) -> dict:
    """`results`: one object for `total`, else a list of buckets, each with its `bucket_start`."""
    return {"period": period, "granularity": granularity, "group_by": None, "results": results}


def usage_row(group_by: str, identity, bucket_start, blocks: dict) -> dict:
    """One group's (and bucket's, when finer than `total`) row; `identity` as the grouping shows it."""
    row = {group_by: identity, **blocks}
    return row if bucket_start is None else {**row, "bucket_start": bucket_start.isoformat()}


def grouped_usage(period: dict, group_by: str, rows: list[dict], links: dict) -> dict:
    """`links`: `next` and `previous`, and `count` (of groups) on the first page."""
    return {"period": period, "group_by": group_by, **links, "results": rows}
