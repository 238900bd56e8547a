"""OpenAI-compatible completions and the API channel, driven by the real `openai` client where it fits
(SPEC §3.10-3.13, §6 items 27-29, 32-33)."""

import uuid

import openai
import pytest


@pytest.fixture
def llm_client(stack, bot_tenant):
    """The `openai` client pointed at this server with a team API key, as the SPEC's users do."""
    return openai.OpenAI(base_url=f"{stack.base_url}/api/openai/{bot_tenant.chatbot_id}", api_key=bot_tenant.key)


def test_the_openai_client_gets_a_completion_whose_id_is_a_session(llm_client, bot_tenant, fake_llm):
    completion = llm_client.chat.completions.create(
        model="anything",
        messages=[
            {"role": "user", "content": "earlier question"},
            {"role": "assistant", "content": "earlier answer"},
            {"role": "user", "content": [{"type": "text", "text": "two"}, {"type": "text", "text": "parts"}]},
        ],
    )
    assert completion.object == "chat.completion" and completion.model == ""
    assert completion.choices[0].message.content == "echo: two parts"
    assert completion.choices[0].finish_reason == "stop"
    session = bot_tenant.client().get(f"/api/sessions/{completion.id}/").json()
    assert [(m["role"], m["content"]) for m in session["messages"]] == [
        ("user", "earlier question"),
        ("assistant", "earlier answer"),
        ("user", "two parts"),
        ("assistant", "echo: two parts"),
    ]
    assert session["participant"]["identifier"] == f"admin@{bot_tenant.slug}"
    # A session that was answered is active, on the read side as on the write side (and as in OCS).
    assert session["status"] == "active"
    (request,) = fake_llm.requests_containing("two parts")
    assert [m["content"] for m in request["messages"][1:]] == ["earlier question", "earlier answer", "two parts"]


def test_streaming_completions_reach_the_openai_client(llm_client):
    stream = llm_client.chat.completions.create(
        model="x", messages=[{"role": "user", "content": "stream it"}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: stream it"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_user_is_the_participant(llm_client, bot_tenant):
    completion = llm_client.chat.completions.create(
        model="x", messages=[{"role": "user", "content": "hi"}], user="customer-42"
    )
    session = bot_tenant.client().get(f"/api/sessions/{completion.id}/").json()
    assert session["participant"]["identifier"] == "customer-42"


@pytest.mark.parametrize(
    ("messages", "text"),
    [
        ([], "No messages provided"),
        (
            [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "Last message must be a user message",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            "Only text messages are supported",
        ),
    ],
)
def test_completion_refusals_are_openai_errors(llm_client, messages, text):
    with pytest.raises(openai.BadRequestError) as refused:
        llm_client.chat.completions.create(model="x", messages=messages)
    assert refused.value.body == {"message": text, "type": "error", "param": None, "code": None}


def test_versions_choose_who_answers(stack, bot_tenant):
    stack.admin(f"publish-version --chatbot {bot_tenant.chatbot_id}")
    client = bot_tenant.client()
    base = f"/api/openai/{bot_tenant.chatbot_id}"
    body = {"messages": [{"role": "user", "content": "which version?"}]}
    tags = {}
    for path in ("/chat/completions", "/v0/chat/completions", "/v1/chat/completions", "/v2/chat/completions"):
        completion = client.post(base + path, json=body).json()
        messages = client.get(f"/api/sessions/{completion['id']}/").json()["messages"]
        tags[path] = messages[-1]["tags"]
    assert tags == {
        "/chat/completions": ["v1"],
        "/v0/chat/completions": ["v1"],
        "/v1/chat/completions": ["v1"],
        "/v2/chat/completions": ["v2-unreleased"],
    }
    before = client.get("/api/sessions/").json()["count"]
    unknown = client.post(base + "/v9/chat/completions", json=body)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Experiment with version 9 not found"})
    assert client.get("/api/sessions/").json()["count"] == before


def test_unknown_or_foreign_chatbots_are_404(stack, bot_tenant):
    body = {"messages": [{"role": "user", "content": "hi"}]}
    for chatbot_id in (str(uuid.uuid4()), stack.new_tenant().chatbot_id):
        response = bot_tenant.client().post(f"/api/openai/{chatbot_id}/chat/completions", json=body)
        assert (response.status_code, response.json()) == (404, {"detail": "No Experiment matches the given query."})
    read_only = bot_tenant.client(bot_tenant.read_only_key)
    assert read_only.post(f"/api/openai/{bot_tenant.chatbot_id}/chat/completions", json=body).status_code == 403


def test_incoming_messages_continue_one_conversation(bot_tenant, fake_llm):
    client = bot_tenant.client()
    path = f"/channels/api/{bot_tenant.chatbot_id}/incoming_message"
    first = client.post(path, json={"message": "hello there"})
    assert first.status_code == 200
    assert first.json() == {
        "response": "echo: hello there",
        "attachments": [],
        "session_id": first.headers["X-Session-Id"],
    }
    second = client.post(path, json={"message": "and again"}).json()
    assert second["session_id"] == first.json()["session_id"]
    assert client.get("/api/sessions/").json()["count"] == 1
    (request,) = fake_llm.requests_containing("and again")
    assert [m["content"] for m in request["messages"][1:]] == ["hello there", "echo: hello there", "and again"]


def test_reset_starts_a_new_session(bot_tenant):
    client = bot_tenant.client()
    path = f"/channels/api/{bot_tenant.chatbot_id}/incoming_message"
    old = client.post(path, json={"message": "hi"}).json()["session_id"]
    reset = client.post(path, json={"message": " /RESET "}).json()
    assert reset["response"] == "Conversation reset" and reset["session_id"] != old
    assert client.get(f"/api/sessions/{old}/").json()["status"] == "pending-review"
    assert client.get(f"/api/sessions/{reset['session_id']}/").json()["messages"] == []
    assert client.get(f"/api/sessions/{reset['session_id']}/").json()["status"] == "setup"
    assert client.post(path, json={"message": "fresh"}).json()["session_id"] == reset["session_id"]
    assert client.get(f"/api/sessions/{reset['session_id']}/").json()["status"] == "active"


def test_incoming_message_with_a_session(stack, bot_tenant):
    client = bot_tenant.client()
    path = f"/channels/api/{bot_tenant.chatbot_id}/incoming_message"
    own = bot_tenant.create_session()["id"]
    assert client.get(f"/api/sessions/{own}/").json()["status"] == "setup"
    assert client.post(path, json={"message": "into it", "session": own}).json()["session_id"] == own
    assert client.get(f"/api/sessions/{own}/").json()["status"] == "active"
    someone_else = bot_tenant.create_session(participant="someone@else.org")["id"]
    for session in (someone_else, str(uuid.uuid4()), "not-even-a-uuid"):
        response = client.post(path, json={"message": "no", "session": session})
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_incoming_message_validation_and_versions(stack, bot_tenant):
    client = bot_tenant.client()
    path = f"/channels/api/{bot_tenant.chatbot_id}/incoming_message"
    assert client.post(path, json={}).json() == {"message": ["This field is required."]}
    unknown = client.post(f"/channels/api/{uuid.uuid4()}/incoming_message", json={"message": "x"})
    assert unknown.status_code == 404
    versioned = client.post(f"/channels/api/{bot_tenant.chatbot_id}/v5/incoming_message", json={"message": "x"})
    assert (versioned.status_code, versioned.json()) == (404, {"detail": "Experiment with version 5 not found"})
    assert (
        client.post(f"/channels/api/{bot_tenant.chatbot_id}/v1/incoming_message", json={"message": "x"}).status_code
        == 200
    )
    assert bot_tenant.client(bot_tenant.read_only_key).post(path, json={"message": "x"}).status_code == 403
    assert (
        client.post(f"/api/v1/channels/api/{bot_tenant.chatbot_id}/incoming_message", json={"message": "x"}).status_code
        == 404
    )
