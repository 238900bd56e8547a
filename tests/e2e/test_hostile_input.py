"""What a hostile client sends cannot stall or corrupt the pipeline for anyone else (issue: one request must never
stop the system): each repro of that issue, as a regression test against the running stack."""

import json

import pytest

from tests.stack import ChatClient

WIDGET_ORIGIN = {"Origin": "https://example.com"}
MARKERS = [{"_type_": "nope", "_data_": 1}, {"_type_": "datetime_iso", "_data_": "2020-01-01T00:00:00"}]


def assert_pipeline_flows(stack) -> None:
    """Another team's write shows in its read model as the write answers (read-your-writes), and health is ok."""
    canary = stack.new_tenant()
    created = canary.create_session(state={"canary": True})
    assert canary.client().get(f"/api/sessions/{created['id']}/").status_code == 200
    health = canary.client().get("/healthz").json()
    assert health["status"] == "ok", health["problems"]


def test_a_message_too_large_for_one_event_is_a_413_and_nothing_is_recorded(stack, tenant):
    client = tenant.client()
    before = client.get("/api/sessions/").json()["count"]

    response = client.post(
        "/api/sessions/",
        json={"experiment": tenant.chatbot_id, "messages": [{"role": "user", "content": "x" * 1_200_000}]},
    )

    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request is too large to record")
    assert client.get("/api/sessions/").json()["count"] == before
    assert_pipeline_flows(stack)


@pytest.mark.parametrize("marker", MARKERS)
def test_client_json_shaped_like_the_event_stores_encoding_round_trips(stack, tenant, marker):
    chat = ChatClient(stack.base_url)
    started = chat.start(tenant.chatbot_id, page_context={"p": marker})
    chat.say("hello", context={"c": marker})
    client = tenant.client()
    assert client.patch(f"/api/sessions/{started['session_id']}/update_state/", json={"state": {"s": marker}}).ok
    participant = {"identifier": "p@example.com", "data": [{"experiment": tenant.chatbot_id, "data": {"d": marker}}]}
    assert client.post("/api/participants", json=participant).status_code == 200

    session = client.get(f"/api/sessions/{started['session_id']}/").json()
    assert session["state"] == {"page_context": {"p": marker}, "s": marker}
    listed = client.get("/api/participants", params={"identifier": "p@example.com"}).json()["results"]
    assert listed[0]["data"][0]["data"] == {"d": marker}
    assert_pipeline_flows(stack)


SURROGATE = json.loads('"\\ud800"')


def surrogate_requests(tenant, session_id):
    """(method, path, body, headers) of every write endpoint, with an unpaired surrogate in a client text."""
    bot = tenant.chatbot_id
    return [
        ("POST", "/api/sessions/", {"experiment": bot, "page_context": {"p": SURROGATE}}, {}),
        ("POST", "/api/sessions/", {"experiment": bot, "state": {SURROGATE: 1}}, {}),
        ("POST", "/api/sessions/", {"experiment": bot, "messages": [{"role": "user", "content": SURROGATE}]}, {}),
        ("POST", f"/api/sessions/{session_id}/tags/", {"tags": [SURROGATE]}, {}),
        ("DELETE", f"/api/sessions/{session_id}/tags/", {"tags": [SURROGATE]}, {}),
        ("PATCH", f"/api/sessions/{session_id}/update_state/", {"state": {"a": [SURROGATE]}}, {}),
        ("POST", "/api/participants", {"identifier": SURROGATE, "data": []}, {}),
        ("POST", "/api/participants", {"identifier": "x", "data": [{"experiment": bot, "data": {"d": SURROGATE}}]}, {}),
        (
            "POST",
            "/api/trigger_bot",
            {"identifier": "x", "platform": "whatsapp", "experiment": bot, "message_text": SURROGATE},
            {},
        ),
        ("POST", "/api/chat/start/", {"chatbot_id": bot, "page_context": {"p": SURROGATE}}, {}),
        ("POST", "/api/chat/start/", {"chatbot_id": bot, "participant_name": SURROGATE}, {}),
        ("POST", f"/channels/api/{bot}/incoming_message", {"message": SURROGATE}, {}),
    ]


def test_text_with_an_unpaired_surrogate_is_a_field_error_everywhere(stack, tenant):
    session_id = tenant.create_session()["id"]
    client = tenant.client()
    for method, path, body, headers in surrogate_requests(tenant, session_id):
        raw = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape `\ud800`
        response = client.request(method, path, data=raw, headers={"Content-Type": "application/json", **headers})
        assert response.status_code == 400, (method, path, response.text)
        errors = response.json()
        field = next(iter(errors))
        assert errors[field] == ["Text must be valid Unicode: it has an unpaired surrogate."], (path, errors)
    assert_pipeline_flows(stack)


def test_chat_message_and_completions_refuse_unpaired_surrogates_in_their_own_shapes(stack, tenant):
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id)
    raw = json.dumps({"message": "hi", "context": {"page": SURROGATE}})
    response = chat.post(
        f"/api/chat/{chat.session_id}/message/", data=raw, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()) == (
        400,
        {"context": ["Text must be valid Unicode: it has an unpaired surrogate."]},
    )

    raw = json.dumps({"messages": [{"role": "user", "content": SURROGATE}]})
    response = tenant.client().post(
        f"/api/openai/{tenant.chatbot_id}/chat/completions", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "unpaired surrogate" in response.json()["error"]["message"]


def test_paired_surrogates_escaped_in_json_are_ordinary_text(tenant):
    created = tenant.create_session(page_context={"emoji": json.loads('"\\ud83d\\ude00"')})
    assert created["state"]["page_context"]["emoji"] == "\U0001f600"


@pytest.mark.parametrize("number", ["1e400", "-1e999"])
def test_numbers_beyond_a_double_are_a_json_parse_error(tenant, number):
    raw = '{"experiment": "%s", "state": {"n": %s}}' % (tenant.chatbot_id, number)
    response = tenant.client().post("/api/sessions/", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_an_embed_key_start_with_a_number_for_chatbot_id_is_a_400(stack, tenant):
    widget = tenant.widget()
    response = ChatClient(stack.base_url).post(
        "/api/chat/start/",
        json={"chatbot_id": 12345678901234567890123456789012},
        headers={"X-Embed-Key": widget["embed_key"], **WIDGET_ORIGIN},
    )
    # Thirty-two digits spell a UUID, which is no chatbot of this widget.
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid widget embed key"})


def test_tags_are_bounded_in_length_per_request_and_per_session(stack, tenant):
    session = tenant.create_session()
    path = f"/api/sessions/{session['id']}/tags/"
    client = tenant.client()
    refusals = [
        ({"tags": ["x" * 101]}, "Each tag must be at most 100 characters"),
        ({"tags": [f"t{n}" for n in range(101)]}, "'tags' must name at most 100 tags"),
    ]
    for body, text in refusals:
        for method in ("post", "delete"):
            response = getattr(client, method)(path, json=body)
            assert (response.status_code, response.json()) == (400, {"error": text})

    for batch in range(5):
        tags = [f"{batch}-{n}-" + "x" * 90 for n in range(100)]
        response = client.post(path, json={"tags": tags})
        assert response.status_code == 200 and len(response.json()["tags"]) == 100 * (batch + 1)
    assert client.post(path, json={"tags": ["one too many"]}).json() == {"error": "A session has at most 500 tags"}
    assert client.post(path, json={"tags": ["0-0-" + "x" * 90]}).status_code == 200  # already there: nothing new
    removed = client.delete(path, json={"tags": [f"0-{n}-" + "x" * 90 for n in range(100)]}).json()["tags"]
    assert len(removed) == 400
    assert len(client.get(f"/api/sessions/{session['id']}/").json()["tags"]) == 400
    assert_pipeline_flows(stack)


@pytest.mark.parametrize(
    "spelling",
    [str.upper, lambda s: s.replace("-", ""), lambda s: "{" + s + "}", lambda s: "urn:uuid:" + s],
)
def test_a_session_id_is_the_same_session_on_reads_and_writes_however_it_is_spelled(tenant, spelling):
    session_id = tenant.create_session()["id"]
    client = tenant.client()
    assert client.post(f"/api/sessions/{spelling(session_id)}/tags/", json={"tags": ["t"]}).status_code == 200
    read = client.get(f"/api/sessions/{spelling(session_id)}/")
    assert read.status_code == 200 and read.json()["id"] == session_id and read.json()["tags"] == ["t"]


def test_errors_outside_the_api_answer_in_the_json_error_shape(stack):
    client = ChatClient(stack.base_url)
    for path in ("/healthz", "/readyz", "/metrics", "/api/schema/"):
        response = client.post(path)
        assert (response.status_code, response.json()) == (405, {"detail": 'Method "POST" not allowed.'}), path


def test_an_empty_cursor_is_the_first_page_with_its_count(tenant):
    tenant.create_session()
    listed = tenant.client().get("/api/sessions/", params={"cursor": ""}).json()
    assert listed["count"] >= 1 and listed["previous"] is None


def test_a_garbage_last_event_id_is_refused_like_a_garbage_since(stack, tenant):
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id)
    response = chat.get(f"/api/chat/{chat.session_id}/stream/", headers={"Last-Event-ID": "garbage"})
    assert (response.status_code, response.json()) == (
        400,
        {"error": "Invalid 'since' parameter format. Use ISO format."},
    )


def test_many_files_in_one_upload_are_all_readable_once_it_answers(stack, tenant):
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id)
    files = [("files", (f"f{n}.txt", f"file {n}".encode(), "text/plain")) for n in range(30)]
    uploaded = chat.post(f"/api/chat/{chat.session_id}/upload/", files=files)
    assert uploaded.status_code == 201 and len(uploaded.json()["files"]) == 30
    for file in uploaded.json()["files"]:
        assert stack.system.db.files.find_one({"file_id": file["id"]}) is not None


def test_a_request_line_too_long_for_the_server_is_a_json_414(tenant):
    response = tenant.client().get("/api/sessions/", params={"cursor": "x" * 100_000})
    assert (response.status_code, response.json()) == (414, {"detail": "Request-URI Too Long"})
    assert response.headers["Content-Type"] == "application/json"


def test_a_latin1_filename_in_an_upload_is_read_as_latin1(stack, tenant):
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id)
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="files"; filename="caf\xe9.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n"
    )
    response = chat.post(
        f"/api/chat/{chat.session_id}/upload/", data=body, headers={"Content-Type": "multipart/form-data; boundary=XX"}
    )
    assert response.status_code == 201, response.text
    assert [f["name"] for f in response.json()["files"]] == ["café.txt"]
