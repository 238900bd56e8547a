"""POST/GET /api/sessions/ and GET /api/sessions/{id}/ as a client sees them (SPEC §3.3-3.4, §6, §9.1)."""

import uuid

import pytest


def test_created_session_reads_back_at_once_with_page_context(tenant):
    created = tenant.create_session(
        participant="jane@example.com", page_context={"product_id": "widget-x", "nested": {"a": [1, 2]}}
    )

    assert created["state"] == {"page_context": {"product_id": "widget-x", "nested": {"a": [1, 2]}}}
    assert created["status"] == "setup" and created["platform"] is None and created["tags"] == []
    assert created["participant"] == {"identifier": "jane@example.com", "remote_id": ""}
    assert created["team"] == {"name": f"Team {tenant.slug}", "slug": tenant.slug}
    assert created["experiment"]["id"] == tenant.chatbot_id
    assert created["url"].endswith(f"/api/sessions/{created['id']}/")

    fetched = tenant.client().get(f"/api/sessions/{created['id']}/")
    assert fetched.status_code == 200
    body = fetched.json()
    assert body["state"]["page_context"] == {"product_id": "widget-x", "nested": {"a": [1, 2]}}
    assert {k: v for k, v in body.items() if k not in ("messages", "usage")} == created
    assert body["messages"] == [] and body["usage"] == {"total_cost": "0.00000000", "by_model": []}


def test_create_answers_201_with_location(tenant):
    response = tenant.client().post("/api/sessions/", json={"experiment": tenant.chatbot_id})
    assert response.status_code == 201
    assert response.headers["Location"] == response.json()["url"]


def test_history_is_stored_in_order_with_roles(tenant):
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi!"},
    ]
    created = tenant.create_session(messages=messages, state={"step": 2})
    body = tenant.client().get(f"/api/sessions/{created['id']}/").json()
    assert [(m["role"], m["content"]) for m in body["messages"]] == [(m["role"], m["content"]) for m in messages]
    assert body["messages"][0]["created_at"] < body["messages"][1]["created_at"] < body["messages"][2]["created_at"]
    assert all(m["metadata"] == {} and m["tags"] == [] and m["attachments"] == [] for m in body["messages"])
    assert body["state"] == {"step": 2}


def test_participant_defaults_to_the_key_user(tenant):
    created = tenant.create_session()
    assert created["participant"]["identifier"] == f"admin@{tenant.slug}"


def test_state_with_reserved_page_context_key_is_refused_and_nothing_written(tenant):
    client = tenant.client()
    response = client.post(
        "/api/sessions/", json={"experiment": tenant.chatbot_id, "state": {"page_context": {"x": 1}}}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["state"]
    assert client.get("/api/sessions/").json()["count"] == 0


def test_page_context_must_be_an_object(tenant):
    response = tenant.client().post("/api/sessions/", json={"experiment": tenant.chatbot_id, "page_context": "x"})
    assert response.status_code == 400
    assert response.json() == {"page_context": ['Expected a dictionary of items but got type "str".']}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"experiment": ["This field is required."]}),
        ({"experiment": "abc"}, {"experiment": ["“abc” is not a valid UUID."]}),
        (
            {"experiment": "{chatbot}", "messages": [{"role": "x", "content": "hi"}]},
            {"messages": [{"role": ['"x" is not a valid choice.']}]},
        ),
        (
            {
                "experiment": "{chatbot}",
                "messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": "  "}],
            },
            {"messages": [{}, {"content": ["This field may not be blank."]}]},
        ),
        (
            {"experiment": "{chatbot}", "messages": [{"role": "user"}]},
            {"messages": [{"content": ["This field is required."]}]},
        ),
        ({"experiment": "{chatbot}", "messages": "hi"}, {"messages": ['Expected a list of items but got type "str".']}),
    ],
)
def test_invalid_bodies_get_field_errors(tenant, body, expected):
    body = {k: (v.replace("{chatbot}", tenant.chatbot_id) if isinstance(v, str) else v) for k, v in body.items()}
    response = tenant.client().post("/api/sessions/", json=body)
    assert response.status_code == 400
    assert response.json() == expected


def test_unknown_chatbot_is_a_field_error(tenant):
    unknown = str(uuid.uuid4())
    response = tenant.client().post("/api/sessions/", json={"experiment": unknown})
    assert response.status_code == 400
    assert response.json() == {"experiment": [f"Object with public_id={unknown} does not exist."]}


def test_another_teams_chatbot_is_not_found(stack, tenant):
    other = stack.new_tenant()
    response = tenant.client().post("/api/sessions/", json={"experiment": other.chatbot_id})
    assert response.status_code == 404
    assert response.json() == {"detail": "Experiment not found"}


def test_another_teams_session_is_not_found(stack, tenant):
    other = stack.new_tenant()
    session = other.create_session()
    response = tenant.client().get(f"/api/sessions/{session['id']}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No ExperimentSession matches the given query."}
    assert tenant.client().get("/api/sessions/").json()["count"] == 0


def test_read_only_key_lists_but_cannot_create(tenant):
    client = tenant.client(tenant.read_only_key)
    assert client.get("/api/sessions/").status_code == 200
    response = client.post("/api/sessions/", json={"experiment": tenant.chatbot_id})
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert client.get("/api/sessions/").json()["count"] == 0


def test_list_is_newest_first_and_ordering_created_at_reverses_it(tenant):
    ids = [tenant.create_session()["id"] for _ in range(3)]
    client = tenant.client()
    assert [s["id"] for s in client.get("/api/sessions/").json()["results"]] == ids[::-1]
    assert [s["id"] for s in client.get("/api/sessions/?ordering=created_at").json()["results"]] == ids
    assert [s["id"] for s in client.get("/api/sessions/?ordering=name").json()["results"]] == ids[::-1]


def test_list_pages_with_cursors(tenant):
    ids = [tenant.create_session()["id"] for _ in range(3)]
    client = tenant.client()
    first = client.get("/api/sessions/?page_size=2").json()
    assert first["count"] == 3 and first["previous"] is None and len(first["results"]) == 2
    second = client.get(first["next"]).json()
    assert "count" not in second and second["next"] is None
    assert [s["id"] for s in first["results"] + second["results"]] == ids[::-1]
    back = client.get(second["previous"]).json()
    assert [s["id"] for s in back["results"]] == ids[::-1][:2]
    assert back["previous"] is None


def test_page_size_falls_back_and_caps(tenant):
    tenant.create_session()
    client = tenant.client()
    for size in ("0", "abc", "-3", "5000"):
        assert client.get(f"/api/sessions/?page_size={size}").status_code == 200


def test_bogus_cursor_is_not_found(tenant):
    for cursor in ("bogus", "eyJ4IjoxfQ"):
        response = tenant.client().get(f"/api/sessions/?cursor={cursor}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid cursor"}


def test_experiment_filter(tenant):
    second_bot = tenant.new_chatbot("Second")
    mine = tenant.create_session()
    tenant.client().post("/api/sessions/", json={"experiment": second_bot})
    listed = tenant.client().get(f"/api/sessions/?experiment={tenant.chatbot_id}").json()
    assert [s["id"] for s in listed["results"]] == [mine["id"]] and listed["count"] == 1


def test_experiment_filter_validates_and_scopes(stack, tenant):
    response = tenant.client().get("/api/sessions/?experiment=abc")
    assert response.status_code == 400
    assert response.json() == {"experiment": ['"abc" is not a valid UUID.']}
    other = stack.new_tenant()
    other.create_session()
    listed = tenant.client().get(f"/api/sessions/?experiment={other.chatbot_id}").json()
    assert listed["results"] == [] and listed["count"] == 0


def test_v1_alias_serves_identical_bodies(tenant):
    tenant.create_session()
    client = tenant.client()
    assert client.get("/api/v1/sessions/").json() == client.get("/api/sessions/").json()


def test_empty_filter_values_are_ignored(tenant):
    tenant.create_session()
    assert tenant.client().get("/api/sessions/?tags=&versions=&experiment=").json()["count"] == 1
