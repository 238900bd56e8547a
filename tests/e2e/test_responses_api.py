"""The OpenAI Responses API for every chatbot (issue 18), driven by the real `openai` client against the real stack
and the fake LLM: create, continue, stream, retrieve, list input items, delete, and what is refused."""

import uuid

import openai
import pytest

from tests.fake_llm import FakeLlm

QUESTION = "would this jacket keep me dry in heavy rain"


def responses_client(stack, tenant, key: str | None = None, version: int | None = None) -> openai.OpenAI:
    base = f"{stack.base_url}/api/openai/{tenant.chatbot_id}" + (f"/v{version}" if version is not None else "")
    return openai.OpenAI(base_url=base, api_key=key or tenant.key, max_retries=0)


@pytest.fixture
def llm(stack, bot_tenant):
    return responses_client(stack, bot_tenant)


@pytest.fixture
def failing_llm():
    fake = FakeLlm().start()
    yield fake
    fake.stop()


def test_a_response_is_created_retrieved_and_recorded_in_its_session(llm, bot_tenant, fake_llm):
    said = f"hello there {uuid.uuid4().hex}"  # the fake LLM is shared: find this test's request by its words
    response = llm.responses.create(
        model="ignored", input=said, instructions="Answer in French.", metadata={"order": "A-17"}
    )
    assert response.object == "response" and response.status == "completed" and response.id.startswith("resp_")
    assert response.output_text == f"echo: {said}"
    (message,) = response.output
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "output_text" and message.content[0].text == f"echo: {said}"
    assert response.model == "fake-model" and response.metadata == {"order": "A-17"}
    assert response.usage.input_tokens + response.usage.output_tokens == response.usage.total_tokens > 0
    assert response.previous_response_id is None and response.instructions == "Answer in French."
    (request,) = fake_llm.requests_containing(said)
    # The chatbot's prompt comes first, the instructions after it.
    assert request["messages"][0]["role"] == "system"
    assert (
        request["messages"][0]["content"].startswith("Help with")
        and "Answer in French." in request["messages"][0]["content"]
    )

    retrieved = llm.responses.retrieve(response.id)
    assert retrieved.model_dump() == response.model_dump()
    client = bot_tenant.client()
    (session,) = client.get("/api/sessions/").json()["results"]
    messages = client.get(f"/api/sessions/{session['id']}/").json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", said),
        ("assistant", f"echo: {said}"),
    ]
    events = client.get("/api/events/").json()["events"]
    assert "StoredResponse.Created" in [event["type"] for event in events]


def test_previous_response_id_continues_the_same_session(llm, bot_tenant, fake_llm):
    first = llm.responses.create(
        model="x",
        input=[
            {"role": "developer", "content": "Be short."},
            {
                "role": "user",
                "content": [{"type": "input_text", "text": "my name is"}, {"type": "input_text", "text": "Ada"}],
            },
        ],
        user="customer-42",
    )
    second = llm.responses.create(model="x", input="what is my name", previous_response_id=first.id)
    assert second.previous_response_id == first.id and second.output_text == "echo: what is my name"
    (request,) = fake_llm.requests_containing("what is my name")
    assert [m["content"] for m in request["messages"][1:]] == [
        "Be short.",
        "my name is Ada",
        "echo: my name is Ada",
        "what is my name",
    ]
    client = bot_tenant.client()
    (session,) = client.get("/api/sessions/").json()["results"]
    assert session["participant"]["identifier"] == "customer-42"
    items = llm.responses.input_items.list(first.id, order="asc")
    assert [(item.role, item.content[0].text) for item in items.data] == [
        ("system", "Be short."),
        ("user", "my name is Ada"),
    ]
    assert [item.content[0].text for item in llm.responses.input_items.list(second.id).data] == ["what is my name"]
    page = llm.responses.input_items.list(first.id, order="asc", limit=1)
    assert page.has_more and page.data[0].content[0].text == "Be short."
    after = llm.responses.input_items.list(first.id, order="asc", limit=1, after=page.data[0].id)
    assert not after.has_more and after.data[0].content[0].text == "my name is Ada"


def test_a_response_not_stored_cannot_be_retrieved_or_continued(llm, bot_tenant):
    response = llm.responses.create(model="x", input="forget me", store=False)
    assert response.output_text == "echo: forget me"
    with pytest.raises(openai.NotFoundError):
        llm.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        llm.responses.create(model="x", input="again", previous_response_id=response.id)
    # The session records the exchange all the same.
    assert bot_tenant.client().get("/api/sessions/").json()["count"] == 1


def test_a_deleted_response_is_gone_but_its_messages_stay(llm, bot_tenant):
    response = llm.responses.create(model="x", input="delete me")
    llm.responses.delete(response.id)
    for attempt in (
        lambda: llm.responses.retrieve(response.id),
        lambda: llm.responses.input_items.list(response.id),
        lambda: llm.responses.delete(response.id),
        lambda: llm.responses.create(model="x", input="more", previous_response_id=response.id),
    ):
        with pytest.raises(openai.NotFoundError) as missing:
            attempt()
        assert missing.value.body["message"] == f"Response with id '{response.id}' not found."
    client = bot_tenant.client()
    (session,) = client.get("/api/sessions/").json()["results"]
    assert len(client.get(f"/api/sessions/{session['id']}/").json()["messages"]) == 2
    assert "StoredResponse.Deleted" in [event["type"] for event in client.get("/api/events/").json()["events"]]


def test_streamed_responses_send_each_delta_as_the_provider_makes_it(stack, slow_llm):
    tenant = stack.new_tenant(prompt="You answer shoppers.", llm_base_url=slow_llm.base_url)
    llm = responses_client(stack, tenant)
    events = iter(llm.responses.create(model="x", input=QUESTION, stream=True))
    seen = []
    while not (seen and seen[-1].type == "response.output_text.delta"):
        seen.append(next(events))
    assert not slow_llm.last_token_released.is_set() and f"echo: {QUESTION}".startswith(seen[-1].delta)
    slow_llm.release_last_token()
    seen += list(events)
    assert [event.sequence_number for event in seen] == list(range(len(seen)))
    kinds = [event.type for event in seen if event.type != "response.output_text.delta"]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    completed = seen[-1].response
    text = "".join(event.delta for event in seen if event.type == "response.output_text.delta")
    assert text == completed.output_text == f"echo: {QUESTION}"
    assert llm.responses.retrieve(completed.id).output_text == text


def test_the_sdk_stream_helper_gets_the_final_response(stack, bot_tenant, llm):
    with llm.responses.stream(model="x", input="through the helper") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "echo: through the helper"


def test_a_provider_failure_is_a_failed_response(stack, failing_llm):
    tenant = stack.new_tenant(llm_base_url=failing_llm.base_url)
    llm = responses_client(stack, tenant)
    failing_llm.fail_next(stack.settings().llm_attempts)
    events = list(llm.responses.create(model="x", input="fail please", stream=True))
    assert events[-1].type == "response.failed"
    failed = events[-1].response
    assert failed.status == "failed" and failed.error.code == "server_error"
    assert llm.responses.retrieve(failed.id).status == "failed"
    failing_llm.fail_next(stack.settings().llm_attempts)
    with pytest.raises(openai.APIStatusError) as refused:
        llm.responses.create(model="x", input="fail again")
    assert refused.value.status_code == 502


def test_versions_choose_who_answers(stack, bot_tenant):
    stack.admin(f"publish-version --chatbot {bot_tenant.chatbot_id}")
    for version in (None, 1, 2):
        versioned = responses_client(stack, bot_tenant, version=version)
        response = versioned.responses.create(model="x", input=f"which version? {version}")
        assert versioned.responses.retrieve(response.id).id == response.id
        assert versioned.responses.input_items.list(response.id).data[0].content[0].text == f"which version? {version}"
    client = bot_tenant.client()
    tags = {}
    for session in client.get("/api/sessions/").json()["results"]:
        question, reply = client.get(f"/api/sessions/{session['id']}/").json()["messages"]
        tags[question["content"]] = reply["tags"]
    assert tags == {"which version? None": ["v1"], "which version? 1": ["v1"], "which version? 2": ["v2-unreleased"]}
    with pytest.raises(openai.NotFoundError) as missing:
        responses_client(stack, bot_tenant, version=9).responses.create(model="x", input="x")
    assert missing.value.body["message"] == "Experiment with version 9 not found"
    for unknown in (-1, 0):  # numbers no version has are refused in the shape OpenAI's clients read, too
        with pytest.raises(openai.NotFoundError) as missing:
            responses_client(stack, bot_tenant, version=unknown).responses.delete("resp_0")
        assert missing.value.body["message"].endswith("not found.")
    for path in ("/api/openai/not-a-uuid/responses", f"/api/openai/{bot_tenant.chatbot_id}/v1.5/responses/resp_0"):
        refused = bot_tenant.client().delete(path)  # no route matches them, and OpenAI's clients read the answer
        assert refused.status_code == 404 and refused.json()["error"]["message"] == "Not found."


def test_credentials_and_other_teams(stack, bot_tenant, llm):
    response = llm.responses.create(model="x", input="mine")
    read_only = responses_client(stack, bot_tenant, key=bot_tenant.read_only_key)
    for write in (
        lambda: read_only.responses.create(model="x", input="no"),
        lambda: read_only.responses.delete(response.id),
    ):
        with pytest.raises(openai.PermissionDeniedError) as forbidden:
            write()
        assert forbidden.value.body["message"]  # in OpenAI's shape
    with pytest.raises(openai.AuthenticationError) as unknown_key:
        responses_client(stack, bot_tenant, key="nope.nope").responses.retrieve(response.id)
    assert unknown_key.value.body["message"]
    # A read-only key reads, as it reads sessions.
    assert read_only.responses.retrieve(response.id).output_text == "echo: mine"
    other = stack.new_tenant()
    for chatbot_id, key in ((other.chatbot_id, other.key), (bot_tenant.chatbot_id, other.key)):
        foreign = openai.OpenAI(base_url=f"{stack.base_url}/api/openai/{chatbot_id}", api_key=key, max_retries=0)
        with pytest.raises(openai.NotFoundError):
            foreign.responses.retrieve(response.id)
        with pytest.raises(openai.NotFoundError):
            foreign.responses.delete(response.id)
    for malformed in ("resp_xyz", "nothing", f"resp_{uuid.uuid4().hex}", "resp_" + "A" * 32):
        with pytest.raises(openai.NotFoundError):
            llm.responses.retrieve(malformed)
        with pytest.raises(openai.NotFoundError):
            llm.responses.create(model="x", input="x", previous_response_id=malformed)
    assert llm.responses.retrieve(response.id).output_text == "echo: mine"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "tools": [{"type": "web_search"}]}, "tools"),
        ({"input": "x", "reasoning": {"effort": "high"}}, "reasoning"),
        ({"input": "x", "text": {"format": {"type": "json_object"}}}, "text"),
        ({"input": "x", "metadata": {f"k{n}": "v" for n in range(17)}}, "metadata"),
        ({"input": "x", "metadata": {"k" * 65: "v"}}, "metadata"),
        ({"input": "x", "metadata": {"k": "v" * 513}}, "metadata"),
        ({"input": "x", "metadata": {"k": 1}}, "metadata"),
        ({"input": ""}, None),
        ({"input": []}, "input"),
        ({"input": 12}, "input"),
        ({"input": [{"role": "assistant", "content": "last"}]}, "input"),
        ({"input": [{"type": "function_call_output", "call_id": "c", "output": "o"}]}, "input[0]"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]}, "input[0]"),
        ({"input": [{"role": "robot", "content": "x"}]}, "input[0]"),
        ({"input": "x", "store": "yes"}, "store"),
        ({"input": "x", "instructions": ["no"]}, "instructions"),
        ({"input": "x", "user": 5}, "user"),
    ],
)
def test_what_cannot_be_honoured_is_refused_as_openai_errors(bot_tenant, body, param):
    refused = bot_tenant.client().post(f"/api/openai/{bot_tenant.chatbot_id}/responses", json={"model": "x", **body})
    if body["input"] == "":  # an empty text is a message like any other
        assert refused.status_code == 200
        return
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["param"] == param and error["type"] == "error" and error["message"]


def test_nothing_a_client_sends_is_a_server_error(bot_tenant):
    client = bot_tenant.client()
    path = f"/api/openai/{bot_tenant.chatbot_id}/responses"
    bad_json = client.post(path, data="{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "JSON parse error" in bad_json.json()["error"]["message"]
    assert client.post(path, json=["a", "list"]).status_code == 400
    assert client.post(path, data="x", headers={"Content-Type": "text/plain"}).status_code == 415
    huge = client.post(path, json={"input": "x" * (3 * 1024 * 1024)})
    assert huge.status_code == 413 and huge.json()["error"]["message"]
    too_big_for_an_event = client.post(path, json={"input": "y" * (1024 * 1024 + 10)})
    assert too_big_for_an_event.status_code == 413 and too_big_for_an_event.json()["error"]
    assert client.get(f"{path}/resp_{uuid.uuid4().hex}/input_items?limit=abc").status_code == 404
    kept = client.post(path, json={"input": "paged"}).json()["id"]
    for query in ("limit=abc", "limit=0", "limit=101", "limit=%C2%B2", "order=sideways"):
        bad_page = client.get(f"{path}/{kept}/input_items?{query}")
        assert bad_page.status_code == 400 and bad_page.json()["error"]["param"] in ("limit", "order"), query
    assert (
        client.get(f"{path}/{kept}/input_items?after=msg_nonsense").json()["data"][0]["content"][0]["text"] == "paged"
    )
    unknown_chatbot = client.post(f"/api/openai/{uuid.uuid4()}/responses", json={"input": "x"})
    assert unknown_chatbot.status_code == 404 and unknown_chatbot.json()["error"]["message"]
