"""Admission and framework errors on the team endpoints (SPEC §0.3, §1.2, §1.9, §6 items 1-4)."""

import pytest

from infra.instance import instance_id
from tests.stack import ChatClient, Client, eventually

TEAM_GETS = ["/api/experiments/", "/api/sessions/"]


@pytest.mark.parametrize("path", TEAM_GETS)
def test_no_credentials_is_401_with_www_authenticate(stack, path):
    response = Client(stack.base_url, None).get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "headers", [{"X-api-key": "garbage"}, {"Authorization": "Bearer garbage"}, {"X-api-key": "abc.def"}]
)
def test_bad_keys_are_invalid_tokens(stack, headers):
    response = Client(stack.base_url, None).get("/api/sessions/", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_key_works_as_bearer(stack, tenant):
    response = Client(stack.base_url, None).get("/api/sessions/", headers={"Authorization": f"Bearer {tenant.key}"})
    assert response.status_code == 200


def test_revoked_key_is_refused_on_both_sides(stack, tenant):
    stack.admin(f"revoke-api-key --key-prefix {tenant.key.split('.')[0]}")
    client = tenant.client()
    assert client.get("/api/sessions/").json() == {"detail": "Invalid token."}
    assert client.post("/api/sessions/", json={"experiment": tenant.chatbot_id}).status_code == 401


def test_wrong_secret_with_a_real_prefix_is_refused(stack, tenant):
    prefix = tenant.key.split(".")[0]
    response = Client(stack.base_url, f"{prefix}.not-the-secret").get("/api/sessions/")
    assert response.status_code == 401


def test_malformed_json_is_400(tenant):
    response = tenant.client().post("/api/sessions/", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_wrong_content_type_is_415(tenant):
    response = tenant.client().post("/api/sessions/", data="experiment=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


@pytest.mark.parametrize("body", ["[]", "3", "null", '"x"'])
def test_non_object_json_is_400(tenant, body):
    response = tenant.client().post("/api/sessions/", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_unrouted_method_is_405_after_authentication(stack, tenant):
    assert Client(stack.base_url, None).put("/api/sessions/").status_code == 401
    response = tenant.client().put("/api/sessions/", json={})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}
    assert tenant.client().post("/api/experiments/", json={}).status_code == 405


def test_unknown_paths_are_404_json(tenant):
    for path in ("/api/nothing/", "/api/v2/sessions/", "/api/v7/sessions/"):
        response = tenant.client().get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_healthz_reports_each_component(stack):
    response = Client(stack.base_url, None).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {
            "event_store": "ok",
            "mongodb": "ok",
            "kafka": "ok",
            "relay": "ok",
            "feed": "ok",
            "projector": "ok",
            "worker": "ok",
            "delivery": "ok",
            "dead_letters": "ok",
        },
        # One replica of each background component, named by its instance id (the host name here).
        "replicas": {f"{name}@{instance_id()}": "ok" for name in ("relay", "feed", "projector", "worker", "delivery")},
        "problems": [],
    }


@pytest.mark.parametrize(
    "raw",
    ['{"experiment": NaN}', '{"a": Infinity}', "[" * 100_000, '{"state": ' + '{"a": ' * 70 + "1" + "}" * 71],
)
def test_hostile_json_is_a_clean_400(tenant, raw):
    response = tenant.client().post("/api/sessions/", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_any_json_state_round_trips(tenant):
    state = {"$set": {"a.b": 1}, "": None, "nul\u0000key": "\u0000", "deep": [[{"x": [1.5, True]}]], "ü": "✓"}
    created = tenant.create_session(state=state)
    assert created["state"] == state
    assert tenant.client().get(f"/api/sessions/{created['id']}/").json()["state"] == state


def test_the_openapi_document_and_its_docs_are_served_without_credentials(stack):
    client = Client(stack.base_url, None)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    assert "/api/sessions/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")


def test_readyz_reports_the_dependencies(stack):
    response = Client(stack.base_url, None).get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {"event_store": "ok", "mongodb": "ok", "kafka": "ok"},
        "pipeline": "ok",
    }


def test_metrics_show_requests_events_lag_and_llm_calls(stack, bot_tenant):
    chat = ChatClient(stack.base_url)
    chat.start(bot_tenant.chatbot_id)
    chat.reply_to(chat.say("measure me"))
    text = eventually(
        lambda: (t := Client(stack.base_url, None).get("/metrics").text) and "ocs_llm_call_seconds_count" in t and t
    )
    assert 'ocs_http_requests_total{endpoint="/api/chat/start/",method="POST",status="201"}' in text
    for name in (
        "ocs_http_request_seconds_bucket",
        "ocs_events_published_total",
        "ocs_events_projected_total",
        "ocs_projector_apply_seconds_count",
        "ocs_command_to_read_model_seconds_count",
        'ocs_consumer_lag{group="ocs-projectors"',
        'ocs_component_status{component="relay",status="ok"} 1.0',
        'ocs_component_status{component="dead_letters",status="parked"} 0.0',
        "ocs_dead_letters_pending 0.0",
        "ocs_relay_backlog_events",
    ):
        assert name in text, name


def test_oversized_bodies_are_413(tenant):
    big = '{"experiment": "x", "state": {"blob": "' + "x" * (3 * 1024 * 1024) + '"}}'
    response = tenant.client().post("/api/sessions/", data=big, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (413, {"detail": "Request body is too large."})


def test_expired_key_is_refused_on_both_sides(stack, tenant):
    expired = stack.admin(f"create-api-key --team {tenant.slug} --write --expires-at 2020-01-01T00:00:00Z")
    assert expired["expires_at"] == "2020-01-01T00:00:00.000000Z"
    client = Client(stack.base_url, expired["key"])
    assert client.get("/api/sessions/").json() == {"detail": "Invalid token."}
    assert client.post("/api/sessions/", json={"experiment": tenant.chatbot_id}).status_code == 401
    current = stack.admin(f"create-api-key --team {tenant.slug} --expires-at 2999-01-01T00:00:00+00:00")
    assert Client(stack.base_url, current["key"]).get("/api/sessions/").status_code == 200


@pytest.mark.parametrize(
    "role, allowed, refused",
    [
        ("'Chat Viewer'", [("GET", "/api/sessions/")], [("GET", "/api/experiments/"), ("POST", "/api/sessions/")]),
        ("'Team Admin'", [], [("GET", "/api/sessions/"), ("GET", "/api/participants"), ("GET", "/api/experiments/")]),
        ("'Chatbot Admin'", [("GET", "/api/experiments/"), ("POST", "/api/sessions/")], []),
    ],
)
def test_a_keys_role_limits_what_it_may_do(stack, tenant, role, allowed, refused):
    key = stack.admin(f"create-api-key --team {tenant.slug} --write --role {role}")["key"]
    client = Client(stack.base_url, key)
    for method, path in allowed:
        body = {"experiment": tenant.chatbot_id} if method == "POST" else None
        assert client.request(method, path, json=body).status_code in (200, 201), (method, path)
    for method, path in refused:
        response = client.request(method, path, json={})
        assert response.status_code == 403 and response.json() == {
            "detail": "You do not have permission to perform this action."
        }, (method, path)
