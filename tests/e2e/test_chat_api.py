"""The chat API as a widget uses it (SPEC §1.6, §3.15-3.19, §6 items 34-45, §9.1), with replies from the
LLM worker through the fake OpenAI-compatible server."""

import uuid

import pytest

from tests.fake_llm import FakeLlm
from tests.stack import ChatClient, eventually

WIDGET_ORIGIN = {"Origin": "https://example.com"}


@pytest.fixture
def chat(stack):
    return ChatClient(stack.base_url)


def test_anonymous_start_gets_a_token_and_a_new_anonymous_participant(chat, tenant):
    started = chat.start(tenant.chatbot_id, session_data={"ignored": True}, participant_remote_id="user-1")
    assert started["session_token"]
    assert started["participant"]["identifier"].startswith("anon:")
    assert started["participant"]["remote_id"] == "user-1"
    assert started["chatbot"]["id"] == tenant.chatbot_id and started["chatbot"]["versions"] == []
    session = tenant.client().get(f"/api/sessions/{started['session_id']}/").json()
    assert session["state"] == {} and session["status"] == "active" and session["platform"] == "api"
    assert ChatClient(chat.base_url).start(tenant.chatbot_id)["participant"] != started["participant"]


def test_start_with_page_context_keeps_it_in_state(chat, tenant):
    started = chat.start(tenant.chatbot_id, page_context={"product_id": "widget-x", "price": "$99.99"})
    state = tenant.client().get(f"/api/sessions/{started['session_id']}/").json()["state"]
    assert state == {"page_context": {"product_id": "widget-x", "price": "$99.99"}}


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"chatbot_id": "abc"}, 400, {"chatbot_id": ["Must be a valid UUID."]}),
        ({}, 400, {"chatbot_id": ["This field is required."]}),
        ({"chatbot_id": str(uuid.uuid4())}, 404, {"detail": "No Experiment matches the given query."}),
        ({"chatbot_id": "{bot}", "version_number": 2}, 403, {"error": "Version number requires authentication"}),
        ({"chatbot_id": "{bot}", "participant_name": ""}, 400, {"participant_name": ["This field may not be blank."]}),
        (
            {"chatbot_id": "{bot}", "page_context": [1]},
            400,
            {"page_context": ['Expected a dictionary of items but got type "list".']},
        ),
        (
            {"chatbot_id": "{bot}", "session_data": {"page_context": {"x": 1}}},
            400,
            {"session_data": ["'page_context' is a reserved key: set it with the 'page_context' parameter."]},
        ),
    ],
)
def test_start_refusals(chat, tenant, body, status, expected):
    body = {k: v.replace("{bot}", tenant.chatbot_id) if isinstance(v, str) else v for k, v in body.items()}
    response = chat.post("/api/chat/start/", json=body)
    assert (response.status_code, response.json()) == (status, expected)


def test_start_with_a_version_uuid_is_not_found(stack, chat, tenant):
    stack.admin(f"publish-version --chatbot {tenant.chatbot_id}")
    version_id = stack.system.app.repository.get(uuid.UUID(tenant.chatbot_id)).versions[0]["version_id"]
    assert chat.post("/api/chat/start/", json={"chatbot_id": version_id}).status_code == 404


def test_embed_key_admission(chat, tenant):
    widget = tenant.widget("embed_key", domains=("example.com", "*.shop.example.org"))
    body = {"chatbot_id": tenant.chatbot_id}
    wrong = chat.post("/api/chat/start/", json=body, headers={"X-Embed-Key": "wrong", **WIDGET_ORIGIN})
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid widget embed key"})
    key = {"X-Embed-Key": widget["embed_key"]}
    for origin in ({"Origin": "https://evil.com"}, {}, {"Origin": "https://shop.example.org"}):
        refused = chat.post("/api/chat/start/", json=body, headers={**key, **origin})
        assert refused.status_code == 403, origin
    for origin in (WIDGET_ORIGIN, {"Referer": "https://a.shop.example.org/page"}):
        started = chat.post("/api/chat/start/", json=body, headers={**key, **origin})
        assert started.status_code == 201 and started.json()["session_token"] is None
    bad_id = chat.post("/api/chat/start/", json={"chatbot_id": "abc"}, headers={**key, **WIDGET_ORIGIN})
    assert bad_id.json() == {"detail": "chatbot_id must be a valid UUID"}
    no_id = chat.post("/api/chat/start/", json={}, headers={**key, **WIDGET_ORIGIN})
    assert no_id.json() == {"detail": "Experiment ID required for embedded widget authentication"}


def test_a_key_of_another_chatbot_is_invalid(chat, tenant):
    other_bot = tenant.new_chatbot("Other")
    widget = tenant.widget("embed_key")
    response = chat.post(
        "/api/chat/start/",
        json={"chatbot_id": other_bot},
        headers={"X-Embed-Key": widget["embed_key"], **WIDGET_ORIGIN},
    )
    assert response.status_code == 401


def test_any_authorization_header_is_refused_without_an_oauth_channel(chat, tenant):
    response = chat.post(
        "/api/chat/start/", json={"chatbot_id": tenant.chatbot_id}, headers={"Authorization": f"Bearer {tenant.key}"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "Authentication required to chat with this chatbot",
        "code": "chat_access_denied",
    }


def test_disabled_widget_refuses_starts_with_its_message(stack, chat, tenant):
    widget = tenant.widget("embed_key")
    headers = {"X-Embed-Key": widget["embed_key"], **WIDGET_ORIGIN}
    stack.admin(f"disable-widget --channel {widget['channel_id']}")
    response = chat.post("/api/chat/start/", json={"chatbot_id": tenant.chatbot_id}, headers=headers)
    assert (response.status_code, response.json()) == (403, {"error": "This chatbot is currently unavailable."})
    stack.admin(f"disable-widget --channel {widget['channel_id']} --message 'Back soon'")
    response = chat.post("/api/chat/start/", json={"chatbot_id": tenant.chatbot_id}, headers=headers)
    assert response.json() == {"error": "Back soon"}
    stack.admin(f"enable-widget --channel {widget['channel_id']}")
    assert chat.post("/api/chat/start/", json={"chatbot_id": tenant.chatbot_id}, headers=headers).status_code == 201


def test_session_token_rules(stack, chat, tenant):
    chat.start(tenant.chatbot_id)
    other = ChatClient(stack.base_url)
    other.start(tenant.chatbot_id)
    path = f"/api/chat/{chat.session_id}/poll/"
    assert ChatClient(stack.base_url).get(path).json() == {
        "error": "Session token required",
        "code": "session_token_required",
    }
    wrong = ChatClient(stack.base_url, {"X-Session-Token": other.headers["X-Session-Token"]}).get(path)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "session_token_invalid")
    widget = tenant.widget("embed_key")
    keyed = ChatClient(stack.base_url, {"X-Embed-Key": widget["embed_key"], **WIDGET_ORIGIN}).get(path)
    assert keyed.json()["code"] == "session_token_required"
    assert chat.get(path).status_code == 200


def test_missing_sessions_are_403_and_malformed_ids_404(stack, tenant):
    missing = f"/api/chat/{uuid.uuid4()}/poll/"
    assert ChatClient(stack.base_url).get(missing).json() == {"detail": "Authentication credentials were not provided."}
    widget = tenant.widget("embed_key")
    keyed = ChatClient(stack.base_url, {"X-Embed-Key": widget["embed_key"], **WIDGET_ORIGIN})
    assert (keyed.get(missing).status_code, keyed.get(missing).json()) == (403, {"detail": "Session does not exist"})
    assert ChatClient(stack.base_url).get("/api/chat/not-a-uuid/poll/").status_code == 404


def test_embed_key_sessions_need_their_own_widgets_key(stack, tenant):
    widget = tenant.widget("embed_key")
    sibling = tenant.widget("embed_key")
    chat = ChatClient(stack.base_url, {"X-Embed-Key": widget["embed_key"], **WIDGET_ORIGIN})
    chat.start(tenant.chatbot_id)
    assert chat.poll()["messages"] == []
    path = f"/api/chat/{chat.session_id}/poll/"
    # No credential at all is OCS's anonymous refusal; a wrong key or origin keeps the permission text.
    anonymous = ChatClient(stack.base_url).get(path)
    assert (anonymous.status_code, anonymous.json()) == (
        403,
        {"detail": "Authentication credentials were not provided."},
    )
    sibling_client = ChatClient(stack.base_url, {"X-Embed-Key": sibling["embed_key"], **WIDGET_ORIGIN})
    assert sibling_client.get(path).json() == {"detail": "You do not have permission to perform this action."}
    assert (
        ChatClient(stack.base_url, {"X-Embed-Key": widget["embed_key"], "Origin": "https://evil.com"})
        .get(path)
        .status_code
        == 403
    )


def test_none_level_widget_sessions_need_no_key(stack, tenant):
    widget = tenant.widget("none", domains=("*",))
    chat = ChatClient(stack.base_url, {"X-Embed-Key": widget["embed_key"], **WIDGET_ORIGIN})
    chat.start(tenant.chatbot_id)
    assert ChatClient(stack.base_url).get(f"/api/chat/{chat.session_id}/poll/").status_code == 200


def test_message_gets_a_reply_with_page_context_in_the_prompt(chat, bot_tenant, fake_llm):
    chat.start(bot_tenant.chatbot_id, page_context={"product": "Widget X"})
    task_id = chat.say("Is it in stock?", context={"page": "/products/x"})
    answer = chat.reply_to(task_id)
    assert answer["status"] == "complete"
    assert answer["message"]["role"] == "assistant" and answer["message"]["content"] == "echo: Is it in stock?"
    assert answer["message"]["tags"] == ["v1-unreleased"]
    (request,) = fake_llm.requests_containing("Is it in stock?")
    assert request["model"] == "fake-model"
    assert request["messages"][0] == {"role": "system", "content": "Help with Widget X on /products/x."}
    state = bot_tenant.client().get(f"/api/sessions/{chat.session_id}/").json()["state"]
    assert state == {"page_context": {"product": "Widget X"}, "remote_context": {"page": "/products/x"}}


def test_missing_prompt_keys_render_empty(chat, bot_tenant, fake_llm):
    chat.start(bot_tenant.chatbot_id)
    chat.reply_to(chat.say("no context at all"))
    (request,) = fake_llm.requests_containing("no context at all")
    assert request["messages"][0]["content"] == "Help with  on ."


def test_history_goes_to_the_llm_and_replies_come_in_order(chat, bot_tenant, fake_llm):
    chat.start(bot_tenant.chatbot_id)
    chat.reply_to(chat.say("first"))
    chat.reply_to(chat.say("second"))
    (request,) = fake_llm.requests_containing("second")
    assert [(m["role"], m["content"]) for m in request["messages"][1:]] == [
        ("user", "first"),
        ("assistant", "echo: first"),
        ("user", "second"),
    ]
    polled = chat.poll()
    assert [m["content"] for m in polled["messages"]] == ["first", "echo: first", "second", "echo: second"]
    assert polled["has_more"] is False and polled["session_status"] == "active"


def test_published_default_version_answers_with_its_tag(stack, chat, bot_tenant):
    stack.admin(f"publish-version --chatbot {bot_tenant.chatbot_id}")
    chat.start(bot_tenant.chatbot_id)
    assert chat.reply_to(chat.say("hello"))["message"]["tags"] == ["v1"]
    listed = bot_tenant.client().get("/api/sessions/?versions=v1").json()
    assert [s["id"] for s in listed["results"]] == [chat.session_id]


def test_transient_llm_failures_are_retried(chat, bot_tenant, fake_llm):
    chat.start(bot_tenant.chatbot_id)
    fake_llm.fail_next(1)
    assert chat.reply_to(chat.say("retry me"))["status"] == "complete"


def test_a_provider_that_keeps_failing_ends_the_task_in_error(chat, bot_tenant, fake_llm):
    chat.start(bot_tenant.chatbot_id)
    fake_llm.fail_next(2)
    task_id = chat.say("doomed")
    response = eventually(lambda: (r := chat.task(task_id)).status_code != 200 and r, timeout_s=20)
    assert response.status_code == 500
    assert response.json() == {
        "error": "Sorry something went wrong. This was likely an intermittent error related to load."
        "Please try again, and wait a few minutes if this keeps happening.",
        "status": "error",
    }


def test_message_validation(chat, tenant):
    chat.start(tenant.chatbot_id)
    path = f"/api/chat/{chat.session_id}/message/"
    assert chat.post(path, json={"message": ""}).json() == {"message": ["This field may not be blank."]}
    assert chat.post(path, json={}).json() == {"message": ["This field is required."]}
    assert chat.post(path, json={"message": "x", "context": "str"}).json() == {
        "context": ['Expected a dictionary of items but got type "str".']
    }
    versioned = chat.post(path, json={"message": "x", "version_number": 1})
    assert (versioned.status_code, versioned.json()) == (403, {"error": "Version number requires authentication"})


def test_poll_since_and_limit(chat, tenant):
    chat.start(tenant.chatbot_id)
    for text in ("one", "two", "three"):
        chat.say(text)
    assert eventually(lambda: len(chat.poll()["messages"]) == 6)
    first = chat.poll(limit=1)
    assert [m["content"] for m in first["messages"]] == ["one"] and first["has_more"] is True
    everything = chat.poll()["messages"]
    assert chat.poll(since=everything[-1]["created_at"])["messages"] == []
    after_first = chat.poll(since=everything[0]["created_at"])["messages"]
    assert after_first == everything[1:]
    for bad in ({"since": "not-a-date"}, {"limit": "x"}, {"limit": "-1"}, {"limit": "³"}):
        response = chat.get(f"/api/chat/{chat.session_id}/poll/", params=bad)
        assert response.status_code == 400
    assert chat.get(f"/api/chat/{chat.session_id}/poll/", params={"since": "x"}).json() == {
        "error": "Invalid 'since' parameter format. Use ISO format."
    }
    assert chat.poll(limit=0) == {"messages": [], "has_more": True, "session_status": "active"}


def test_task_poll_binding(stack, chat, tenant):
    chat.start(tenant.chatbot_id)
    task_id = chat.say("hi")
    other = ChatClient(stack.base_url)
    other.start(tenant.chatbot_id)
    eventually(lambda: chat.task(task_id).json()["status"] != "processing")
    foreign = other.task(task_id)
    assert (foreign.status_code, foreign.json()) == (404, {"detail": "Not found."})
    assert other.task(str(uuid.uuid4())).json() == {"message": None, "status": "processing"}


def test_another_sessions_task_is_not_found_while_it_is_in_flight(stack, chat):
    slow = FakeLlm(delay_s=3).start()
    try:
        tenant = stack.new_tenant(llm_base_url=slow.base_url)
        chat.start(tenant.chatbot_id)
        task_id = chat.say("hi")
        other = ChatClient(stack.base_url)
        other.start(tenant.chatbot_id)
        assert chat.task(task_id).json() == {"message": None, "status": "processing"}
        in_flight = other.task(task_id)
        assert (in_flight.status_code, in_flight.json()) == (404, {"detail": "Not found."})
        assert chat.reply_to(task_id)["status"] == "complete"
    finally:
        slow.stop()


def test_uploads_and_attachments(stack, chat, tenant):
    chat.start(tenant.chatbot_id)
    upload = f"/api/chat/{chat.session_id}/upload/"
    response = chat.post(upload, files={"files": ("notes.txt", b"hello file", "text/plain")})
    assert response.status_code == 201
    (uploaded,) = response.json()["files"]
    assert uploaded["name"] == "notes.txt" and uploaded["size"] == 10 and uploaded["content_type"] == "text/plain"

    assert chat.post(upload, files={"participant_name": (None, "x")}).json() == {"error": "No files provided"}
    bmp = chat.post(upload, files={"files": ("pic.bmp", b"BM....", "image/bmp")})
    assert bmp.status_code == 400 and "not a supported image type" in bmp.json()["error"]
    big = chat.post(upload, files={"files": ("big.txt", b"x" * (50 * 1024 * 1024 + 1), "text/plain")})
    assert big.json() == {"error": "File 'big.txt' exceeds maximum size of 50MB"}
    assert chat.post(upload, json={"files": []}).status_code == 415

    other = ChatClient(stack.base_url)
    other.start(tenant.chatbot_id)
    message = f"/api/chat/{other.session_id}/message/"
    foreign = other.post(message, json={"message": "see file", "attachment_ids": [uploaded["id"]]})
    assert (foreign.status_code, foreign.json()) == (400, {"error": "One or more file IDs are invalid"})
    twice = chat.post(
        f"/api/chat/{chat.session_id}/message/", json={"message": "x", "attachment_ids": [uploaded["id"]] * 2}
    )
    assert twice.status_code == 400

    chat.say("see file", attachment_ids=[uploaded["id"]])
    messages = eventually(lambda: [m for m in chat.poll()["messages"] if m["content"] == "see file"])
    (attachment,) = messages[0]["attachments"]
    assert attachment["name"] == "notes.txt" and attachment["content_url"].endswith(
        f"/api/files/{uploaded['id']}/content"
    )
    downloaded = tenant.client().get(attachment["content_url"], headers={"Accept": "application/json"})
    assert downloaded.status_code == 200 and downloaded.content == b"hello file"
    assert downloaded.headers["Content-Type"].startswith("text/plain")
    assert stack.new_tenant().client().get(attachment["content_url"]).status_code == 404


def test_cors_on_chat_paths_only(chat, tenant):
    preflight = chat.options(
        "/api/chat/start/",
        headers={
            "Origin": "https://site.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-embed-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-embed-key" in preflight.headers["Access-Control-Allow-Headers"]
    started = chat.post(
        "/api/chat/start/", json={"chatbot_id": tenant.chatbot_id}, headers={"Origin": "https://site.example"}
    )
    assert started.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in tenant.client().get("/api/sessions/").headers


def test_stream_pushes_messages_as_they_are_projected(chat, bot_tenant):
    chat.start(bot_tenant.chatbot_id)
    chat.say("stream me")
    response = chat.get(f"/api/chat/{chat.session_id}/stream/", stream=True, timeout=20)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    contents = []
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("data: "):
            contents.append(__import__("json").loads(line[6:])["content"])
        if len(contents) == 2:
            break
    response.close()
    assert contents == ["stream me", "echo: stream me"]


def test_ended_session_is_api_end_only_pending_review(chat, tenant):
    # The chat API counts only `complete` as ended (quirk Q1 mirrored); API-created sessions are `setup`.
    chat.start(tenant.chatbot_id)
    assert chat.poll()["session_status"] == "active"


def test_hostile_headers_and_params_are_refused_cleanly(stack, chat, tenant):
    chat.start(tenant.chatbot_id)
    path = f"/api/chat/{chat.session_id}/poll/"
    odd_token = ChatClient(stack.base_url, {"X-Session-Token": "é.é".encode().decode("latin-1")}).get(path)
    assert odd_token.json()["code"] == "session_token_invalid"
    widget = tenant.widget("embed_key")
    bad_origin = ChatClient(stack.base_url, {"X-Embed-Key": widget["embed_key"], "Origin": "http://[::1"})
    assert bad_origin.post("/api/chat/start/", json={"chatbot_id": tenant.chatbot_id}).status_code == 403
    assert chat.get(path, params={"since": "0001-01-01T00:00:00+01:00"}).status_code == 400


def test_one_id_follows_a_message_from_its_request_to_its_reply(stack, chat, bot_tenant):
    chat.start(bot_tenant.chatbot_id)
    response = chat.post(f"/api/chat/{chat.session_id}/message/", json={"message": "trace me"})
    request_id = response.headers["X-Request-Id"]
    assert response.json()["task_id"] == request_id
    assert chat.reply_to(request_id)["status"] == "complete"
    (reply,) = [
        e
        for e in stack.system.app.all_envelopes()
        if e["type"] == "ChatSession.ReplyRecorded" and e["aggregate_id"] == chat.session_id
    ]
    assert reply["data"]["task_id"] == request_id
