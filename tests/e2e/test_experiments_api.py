"""GET /api/experiments/ and /api/experiments/{id}/ (SPEC §3.1-3.2, §6 items 7, 9, 10)."""

import uuid


def test_chatbot_with_versions_shows_next_version_number_and_default(stack, tenant):
    stack.admin(f"publish-version --chatbot {tenant.chatbot_id} --description first")
    stack.admin(f"publish-version --chatbot {tenant.chatbot_id} --description second")
    body = tenant.client().get(f"/api/experiments/{tenant.chatbot_id}/").json()
    assert body["version_number"] == 3
    assert body["versions"] == [
        {"name": "Support Bot", "version_number": 1, "is_default_version": True, "version_description": "first"},
        {"name": "Support Bot", "version_number": 2, "is_default_version": False, "version_description": "second"},
    ]
    assert body["url"].endswith(f"/api/experiments/{tenant.chatbot_id}/")


def test_make_default_moves_the_default(stack, tenant):
    stack.admin(f"publish-version --chatbot {tenant.chatbot_id}")
    assert stack.admin(f"publish-version --chatbot {tenant.chatbot_id} --make-default") == {
        "version_number": 2,
        "is_default_version": True,
    }
    versions = tenant.client().get(f"/api/experiments/{tenant.chatbot_id}/").json()["versions"]
    assert [v["is_default_version"] for v in versions] == [False, True]


def test_list_is_newest_first_with_count(tenant):
    second = tenant.new_chatbot("Second")
    body = tenant.client().get("/api/experiments/").json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [e["id"] for e in body["results"]] == [second, tenant.chatbot_id]
    assert body["results"][1] == {
        "id": tenant.chatbot_id,
        "name": "Support Bot",
        "url": body["results"][1]["url"],
        "version_number": 1,
        "versions": [],
    }


def test_list_pages(tenant):
    ids = [tenant.new_chatbot(f"Bot {n}") for n in range(2)]
    first = tenant.client().get("/api/experiments/?page_size=2").json()
    second = tenant.client().get(first["next"]).json()
    assert [e["id"] for e in first["results"] + second["results"]] == ids[::-1] + [tenant.chatbot_id]


def test_unknown_foreign_and_malformed_ids_are_not_found(stack, tenant):
    other = stack.new_tenant()
    client = tenant.client()
    for chatbot_id in (str(uuid.uuid4()), other.chatbot_id):
        response = client.get(f"/api/experiments/{chatbot_id}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No Experiment matches the given query."}
    response = client.get("/api/experiments/not-a-uuid/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert [e["id"] for e in client.get("/api/experiments/").json()["results"]] == [tenant.chatbot_id]


def test_a_version_uuid_is_not_a_chatbot(stack, tenant):
    stack.admin(f"publish-version --chatbot {tenant.chatbot_id}")
    version_id = stack.system.app.repository.get(uuid.UUID(tenant.chatbot_id)).versions[0]["version_id"]
    assert tenant.client().get(f"/api/experiments/{version_id}/").status_code == 404
    response = tenant.client().post("/api/sessions/", json={"experiment": version_id})
    assert response.status_code == 400 and list(response.json()) == ["experiment"]
