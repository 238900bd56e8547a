"""API v2 over HTTP (OCS's `ocs-api-v2.yml`): the chatbots (v1's experiments in v2's shape), `me`, and
v2's document. The usage report is tested in test_usage.py; inspect and the pipeline catalogue and options in
test_pipelines_v2.py; `trigger_bot`, whose requests and refusals v2 shares with v1, is tested on both paths in
test_trigger_bot.py; another team's objects in test_team_isolation.py."""

import uuid
from pathlib import Path

import pytest
import yaml

from tests.oauth_flow import AuthorizationCodeFlow
from tests.stack import Client

REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "ocs-api-v2.yml"
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
INVALID = {"detail": "Invalid token."}


def test_chatbots_are_v1s_experiments_at_their_v2_url(stack, tenant):
    stack.admin(f"publish-version --chatbot {tenant.chatbot_id} --description first --make-default")
    client = tenant.client()
    chatbot = client.get(f"/api/v2/chatbots/{tenant.chatbot_id}/").json()
    assert chatbot == {
        "id": tenant.chatbot_id,
        "name": "Support Bot",
        "url": f"{stack.base_url}/api/v2/chatbots/{tenant.chatbot_id}/",
        "version_number": 2,
        "versions": [
            {"name": "Support Bot", "version_number": 1, "is_default_version": True, "version_description": "first"}
        ],
    }
    experiment = client.get(f"/api/experiments/{tenant.chatbot_id}/").json()
    assert {**experiment, "url": chatbot["url"]} == chatbot
    assert client.get(chatbot["url"]).json() == chatbot


def test_the_list_is_newest_first_in_cursor_pages_with_a_count_on_the_first(tenant):
    ids = [tenant.new_chatbot(f"Bot {n}") for n in range(3)][::-1] + [tenant.chatbot_id]
    client = tenant.client()
    whole = client.get("/api/v2/chatbots/").json()
    assert [bot["id"] for bot in whole["results"]] == ids
    assert (whole["count"], whole["next"], whole["previous"]) == (4, None, None)
    assert whole["results"][0]["url"].endswith(f"/api/v2/chatbots/{ids[0]}/")

    first = client.get("/api/v2/chatbots/?page_size=3").json()
    assert first["count"] == 4 and first["previous"] is None and "/api/v2/chatbots/?" in first["next"]
    second = client.get(first["next"]).json()
    assert "count" not in second and second["next"] is None
    assert [bot["id"] for bot in first["results"] + second["results"]] == ids
    back = client.get(second["previous"]).json()
    assert [bot["id"] for bot in back["results"]] == ids[:3]
    # Non-numbers and sizes out of range fall back to the default page.
    for size in ("x", "0", "-1"):
        assert len(client.get(f"/api/v2/chatbots/?page_size={size}").json()["results"]) == 4


def test_bad_cursors_and_unknown_or_malformed_ids_are_not_found(stack, tenant):
    client = tenant.client()
    response = client.get("/api/v2/chatbots/?cursor=not-a-cursor")
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid cursor"})
    # A cursor of another listing is not one of this listing's.
    tenant.create_session()
    tenant.create_session()
    sessions_cursor = client.get("/api/sessions/?page_size=1").json()["next"].split("cursor=")[1]
    assert client.get(f"/api/v2/chatbots/?cursor={sessions_cursor}").json() == {"detail": "Invalid cursor"}
    missing = client.get(f"/api/v2/chatbots/{uuid.uuid4()}/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "No Experiment matches the given query."})
    malformed = client.get("/api/v2/chatbots/not-a-uuid/")
    assert (malformed.status_code, malformed.json()) == (404, {"detail": "Not found."})


def test_v2_paths_are_served_under_api_v2_only(tenant):
    client = tenant.client()
    for path in ("/api/chatbots/", "/api/v1/chatbots/", "/api/me/", "/api/v1/me/", "/api/v1/v2/me/"):
        response = client.get(path)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), path
    assert client.post("/api/v1/trigger_bot/", json={}).status_code == 404
    # And v1's paths stay v1's: none is served under /api/v2/.
    assert client.get("/api/v2/experiments/").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v2/trigger_bot"), ("GET", "/api/v2/me"), ("GET", "/api/experiments"), ("POST", "/api/v1/sessions")],
)
def test_a_path_without_its_trailing_slash_is_redirected_to_it_with_its_method_kept(stack, method, path):
    """As OCS's Django redirects, before authentication (this was a 500)."""
    response = Client(stack.base_url, None).request(method, path, allow_redirects=False)
    assert response.status_code == 308 and response.headers["Location"] == f"{stack.base_url}{path}/"


def test_me_is_the_identity_the_key_acts_as_and_its_team(stack, tenant):
    me = tenant.client().get("/api/v2/me/").json()
    assert me == {
        "id": me["id"],
        "username": f"admin@{tenant.slug}",
        "email": f"admin@{tenant.slug}",
        "first_name": "",
        "last_name": "",
        "email_verified": False,
        "team": {"name": f"Team {tenant.slug}", "slug": tenant.slug},
    }
    assert isinstance(me["id"], int) and 0 <= me["id"] < 2**31
    # Any key of the team may ask, read-only ones and any role: the same user is the same number.
    assert tenant.client(tenant.read_only_key).get("/api/v2/me/").json() == me
    viewer = stack.admin(f"create-api-key --team {tenant.slug} --user jane --role 'Team Admin'")["key"]
    jane = Client(stack.base_url, viewer).get("/api/v2/me/").json()
    assert (jane["username"], jane["email"], jane["team"]) == ("jane", "", me["team"])
    assert jane["id"] != me["id"]
    # Another team's user of the same name is another user, in that team.
    other = stack.new_tenant()
    other_jane = stack.admin(f"create-api-key --team {other.slug} --user jane")["key"]
    theirs = Client(stack.base_url, other_jane).get("/api/v2/me/").json()
    assert theirs["username"] == "jane" and theirs["team"]["slug"] == other.slug and theirs["id"] != jane["id"]


def test_me_with_oauth_tokens_of_any_scope_but_not_a_machine_token(stack, tenant):
    """`me` lists no scope: an authorization-code token of any scope acts as its user; a machine token acts as none."""
    machine = tenant.bearer(tenant.machine_token("sessions:read"))
    response = machine.get("/api/v2/me/")
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read")
    token = flow.token(flow.consent(tenant.key))
    assert tenant.bearer(token).get("/api/v2/me/").json()["username"] == f"admin@{tenant.slug}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/chatbots/"),
        ("GET", "/api/v2/chatbots/{chatbot}/"),
        ("GET", "/api/v2/me/"),
        ("POST", "/api/v2/trigger_bot/"),
        ("GET", "/api/v2/usage/"),
        ("GET", "/api/v2/chatbots/{chatbot}/inspect/"),
        ("GET", "/api/v2/pipeline/nodes/"),
        ("GET", "/api/v2/pipeline/nodes/CodeNode/"),
        ("GET", "/api/v2/pipeline/options/"),
        ("GET", "/api/v2/pipeline/options/CodeNode/"),
    ],
)
def test_no_credential_or_an_invalid_one_is_refused(stack, tenant, method, path):
    path = path.format(chatbot=tenant.chatbot_id)
    anonymous = Client(stack.base_url, None).request(method, path, json={})
    assert (anonymous.status_code, anonymous.json()) == (401, NOT_PROVIDED)
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    for headers in ({"X-api-key": "nope.nope"}, {"Authorization": "Bearer nope.nope"}):
        refused = Client(stack.base_url, None).request(method, path, headers=headers, json={})
        assert (refused.status_code, refused.json()) == (401, INVALID)


def test_chatbots_need_chatbots_read_of_a_token_and_view_chatbots_of_a_role(stack, tenant):
    reader = tenant.bearer(tenant.machine_token("chatbots:read"))
    assert [bot["id"] for bot in reader.get("/api/v2/chatbots/").json()["results"]] == [tenant.chatbot_id]
    assert reader.get(f"/api/v2/chatbots/{tenant.chatbot_id}/").status_code == 200
    other_scopes = tenant.bearer(tenant.machine_token("sessions:read chatbots:interact"))
    for path in ("/api/v2/chatbots/", f"/api/v2/chatbots/{tenant.chatbot_id}/"):
        assert other_scopes.get(path).json() == FORBIDDEN
    viewer = stack.admin(f"create-api-key --team {tenant.slug} --role 'Chat Viewer'")["key"]
    assert Client(stack.base_url, viewer).get("/api/v2/chatbots/").json() == FORBIDDEN
    # A read-only key reads chatbots; no method but GET is served.
    read_only = tenant.client(tenant.read_only_key)
    assert read_only.get("/api/v2/chatbots/").status_code == 200
    response = tenant.client().post("/api/v2/chatbots/", json={})
    assert (response.status_code, response.json()) == (405, {"detail": 'Method "POST" not allowed.'})


def test_the_v2_document_is_served_beside_v1s(stack):
    v2 = Client(stack.base_url, None).get("/api/v2/schema/").json()
    assert v2["info"]["version"] == "v2"
    theirs = yaml.safe_load(REFERENCE.read_text())["paths"] if REFERENCE.exists() else {}
    assert set(theirs) <= set(v2["paths"])
    assert "/api/v2/chatbots/{id}/inspect/" in v2["paths"] and "Not served yet" not in v2["info"]["description"]
    v1 = Client(stack.base_url, None).get("/api/schema/").json()
    assert not [path for path in v1["paths"] if path.startswith("/api/v2/")]
