"""End, tag and replace the state of sessions (SPEC §3.5-3.7, §6 items 4, 6, 16-19, §9.1)."""

import uuid

import pytest

from tests.stack import ChatClient


def test_end_answers_empty_200_and_the_session_reads_pending_review(stack, tenant):
    session = tenant.create_session()
    response = tenant.client().post(f"/api/sessions/{session['id']}/end_experiment_session/")
    assert response.status_code == 200 and response.content == b""
    assert tenant.client().get(f"/api/sessions/{session['id']}/").json()["status"] == "pending-review"
    assert tenant.client().post(f"/api/sessions/{session['id']}/end_experiment_session/").status_code == 200


def test_chat_still_works_after_an_api_end(stack, tenant):
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id)
    tenant.client().post(f"/api/sessions/{chat.session_id}/end_experiment_session/")
    assert chat.post(f"/api/chat/{chat.session_id}/message/", json={"message": "still here?"}).status_code == 202
    assert chat.poll()["session_status"] == "active"


def test_end_of_an_unknown_or_foreign_session_is_404_with_the_literal_text(stack, tenant):
    foreign = stack.new_tenant().create_session()
    for session_id in (str(uuid.uuid4()), foreign["id"], "1712345678.123"):
        response = tenant.client().post(f"/api/sessions/{session_id}/end_experiment_session/")
        assert (response.status_code, response.json()) == (404, {"error": "Session not found:{id}"})


def test_tags_are_added_once_and_read_back(tenant):
    session = tenant.create_session()
    path = f"/api/sessions/{session['id']}/tags/"
    client = tenant.client()
    assert client.post(path, json={"tags": ["x"]}).json() == {"tags": ["x"]}
    assert client.post(path, json={"tags": ["x", "y"]}).json() == {"tags": ["x", "y"]}
    assert client.get(f"/api/sessions/{session['id']}/").json()["tags"] == ["x", "y"]
    assert client.delete(path, json={"tags": ["x", "unknown"]}).json() == {"tags": ["y"]}
    assert client.get(f"/api/sessions/{session['id']}/").json()["tags"] == ["y"]


def test_tags_filter_lists_each_session_once(tenant):
    both, one, none = tenant.create_session(), tenant.create_session(), tenant.create_session()
    client = tenant.client()
    client.post(f"/api/sessions/{both['id']}/tags/", json={"tags": ["a", "b"]})
    client.post(f"/api/sessions/{one['id']}/tags/", json={"tags": ["b"]})
    listed = client.get("/api/sessions/?tags=a,b").json()
    assert sorted(s["id"] for s in listed["results"]) == sorted([both["id"], one["id"]]) and listed["count"] == 2
    assert none["id"] not in [s["id"] for s in listed["results"]]


def test_every_filter_counts_what_it_lists(tenant):
    second_bot = tenant.new_chatbot("Second")
    first, second, third = (tenant.create_session() for _ in range(3))
    other = tenant.create_session(experiment=second_bot)
    client = tenant.client()
    for session, tags in ((first, ["a", "b"]), (second, ["a"]), (other, ["a"]), (third, ["a"])):
        client.post(f"/api/sessions/{session['id']}/tags/", json={"tags": tags})
    client.delete(f"/api/sessions/{first['id']}/tags/", json={"tags": ["a"]})
    client.delete(f"/api/sessions/{third['id']}/tags/", json={"tags": ["a"]})
    expected = {
        "": 4,
        "tags=a": 2,
        "tags=b": 1,
        "tags=a,b": 3,
        f"experiment={second_bot}": 1,
        f"experiment={second_bot}&tags=a": 1,
        f"experiment={tenant.chatbot_id}&tags=a,b": 2,
        "tags=none": 0,
        "versions=v1": 0,
        # More values than a page reads ranges for (query_api/queries/sessions.py MOST_RANGES), and a value twice.
        "tags=" + ",".join(["b", *(f"t{n}" for n in range(200))]): 1,
        f"experiment={tenant.chatbot_id}&tags=" + ",".join(["a", *(f"t{n}" for n in range(200))]): 1,
        "tags=b,b": 1,
    }
    counted = {}
    for query in expected:
        listed = client.get(f"/api/sessions/?{query}").json()
        assert listed["count"] == len(listed["results"]), query
        counted[query] = listed["count"]
    assert counted == expected


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({}, "Missing 'tags' in request"),
        ({"tags": []}, "Missing 'tags' in request"),
        ({"tags": None}, "Missing 'tags' in request"),
        ({"tags": "x"}, "'tags' must be a list"),
        ({"tags": [" "]}, "'tags' must be a list of non-empty strings"),
        ({"tags": [1]}, "'tags' must be a list of non-empty strings"),
    ],
)
def test_tag_validation_comes_before_the_lookup(tenant, body, text):
    for method in ("post", "delete"):
        response = getattr(tenant.client(), method)(f"/api/sessions/{uuid.uuid4()}/tags/", json=body)
        assert (response.status_code, response.json()) == (400, {"error": text})


def test_tags_on_a_foreign_session_are_404(stack, tenant):
    foreign = stack.new_tenant().create_session()
    response = tenant.client().post(f"/api/sessions/{foreign['id']}/tags/", json={"tags": ["x"]})
    assert (response.status_code, response.json()) == (404, {"error": f"Session not found: {foreign['id']}"})


def test_update_state_replaces_everything_but_page_context(stack, tenant):
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id, page_context={"page": "/x"})
    chat.say("hi", context={"remote": True})
    client = tenant.client()
    response = client.patch(f"/api/sessions/{chat.session_id}/update_state/", json={"state": {"a": 1}})
    assert response.json() == {"success": True, "state": {"a": 1, "page_context": {"page": "/x"}}}
    assert client.get(f"/api/sessions/{chat.session_id}/").json()["state"] == {"a": 1, "page_context": {"page": "/x"}}


@pytest.mark.parametrize("state", [{}, [], "", 0, False, None])
def test_update_state_needs_a_truthy_state_before_the_lookup(tenant, state):
    response = tenant.client().patch(f"/api/sessions/{uuid.uuid4()}/update_state/", json={"state": state})
    assert (response.status_code, response.json()) == (400, {"error": "Missing 'state' in request"})


def test_update_state_refuses_the_reserved_key_and_non_objects(tenant):
    session = tenant.create_session(state={"keep": 1})
    path = f"/api/sessions/{session['id']}/update_state/"
    reserved = tenant.client().patch(path, json={"state": {"page_context": {"x": 1}}})
    assert reserved.status_code == 400 and list(reserved.json()) == ["state"]
    assert tenant.client().patch(path, json={"state": [1]}).status_code == 400
    assert tenant.client().get(f"/api/sessions/{session['id']}/").json()["state"] == {"keep": 1}


def test_update_state_of_an_unknown_session_is_404(tenant):
    session_id = str(uuid.uuid4())
    response = tenant.client().patch(f"/api/sessions/{session_id}/update_state/", json={"state": {"a": 1}})
    assert (response.status_code, response.json()) == (404, {"error": f"Session not found: {session_id}"})


def test_read_only_keys_change_nothing(tenant):
    session = tenant.create_session()
    client = tenant.client(tenant.read_only_key)
    sid = session["id"]
    for method, path, body in [
        ("patch", f"/api/sessions/{sid}/update_state/", {"state": {"a": 1}}),
        ("post", f"/api/sessions/{sid}/tags/", {"tags": ["x"]}),
        ("delete", f"/api/sessions/{sid}/tags/", {"tags": ["x"]}),
        ("post", f"/api/sessions/{sid}/end_experiment_session/", None),
    ]:
        assert getattr(client, method)(path, json=body).status_code == 403
    assert tenant.client().get(f"/api/sessions/{sid}/").json() == {
        **tenant.client().get(f"/api/sessions/{sid}/").json(),
        "status": "setup",
        "tags": [],
        "state": {},
    }
