"""Team isolation (SPEC §1.3): with team B's key, every team endpoint treats team A's objects exactly as
missing ones: the same status and body as for an id that never existed, or an empty list."""

import uuid

import pytest

from tests.stack import Client


@pytest.fixture
def team_a(stack, bot_tenant):
    """Team A's objects: a chatbot, a session with a message and a tag, a participant, a file, a channel."""
    a = bot_tenant
    session = a.create_session(messages=[{"role": "user", "content": "hi"}])
    a.client().post(f"/api/sessions/{session['id']}/tags/", json={"tags": ["a-only"]})
    a.client().post("/api/participants", json={"identifier": "a@team.org", "data": [{"experiment": a.chatbot_id}]})
    stack.admin(f"create-channel --chatbot {a.chatbot_id} --platform telegram")
    from tests.stack import ChatClient

    chat = ChatClient(stack.base_url)
    chat.start(a.chatbot_id)
    upload = chat.post(f"/api/chat/{chat.session_id}/upload/", files={"files": ("a.txt", b"secret", "text/plain")})
    return {
        "slug": a.slug,
        "chatbot": a.chatbot_id,
        "session": session["id"],
        "file": upload.json()["files"][0]["id"],
    }


def same_as_missing(client, method: str, path_for, real: str, missing: str, body=None):
    """The answer for team A's object equals the answer for an object that does not exist."""
    kwargs = {"json": body} if body is not None else {}
    theirs = client.request(method, path_for(real), **kwargs)
    nothing = client.request(method, path_for(missing), **kwargs)
    assert theirs.status_code == nothing.status_code and theirs.status_code in (400, 404), (path_for(real), theirs.text)
    normalise = lambda response: response.text.replace(real, "ID").replace(missing, "ID")  # noqa: E731
    assert normalise(theirs) == normalise(nothing)


ALL_SCOPES = (
    "chatbots:read chatbots:interact sessions:read sessions:write participants:read participants:write files:read"
    " events:read"
)


@pytest.fixture(params=["api_key", "machine_token", "cookie"])
def team_b(request, stack):
    """Team B's client: its writable API key, a machine token holding every scope, or a page signed in with the key
    (its cookie, and the CSRF token on every request)."""
    b = stack.new_tenant()
    if request.param == "api_key":
        return b.client()
    if request.param == "cookie":
        page = Client(stack.base_url, None)
        page.headers["X-CSRFToken"] = page.post("/api/auth/session/", headers={"X-api-key": b.key}).json()["csrf_token"]
        return page
    return b.bearer(b.machine_token(ALL_SCOPES, f"--chatbot {b.chatbot_id}"))


def test_team_b_sees_nothing_of_team_a(stack, team_a, team_b):
    b = team_b
    missing_uuid = str(uuid.uuid4())
    session, chatbot = team_a["session"], team_a["chatbot"]

    checks = [
        ("GET", lambda i: f"/api/experiments/{i}/", chatbot, missing_uuid, None),
        ("GET", lambda i: f"/api/v2/chatbots/{i}/", chatbot, missing_uuid, None),
        ("GET", lambda i: f"/api/v2/chatbots/{i}/inspect/", chatbot, missing_uuid, None),
        ("GET", lambda i: f"/api/sessions/{i}/", session, missing_uuid, None),
        ("POST", lambda i: f"/api/sessions/{i}/end_experiment_session/", session, missing_uuid, None),
        ("POST", lambda i: f"/api/sessions/{i}/tags/", session, missing_uuid, {"tags": ["x"]}),
        ("DELETE", lambda i: f"/api/sessions/{i}/tags/", session, missing_uuid, {"tags": ["a-only"]}),
        ("PATCH", lambda i: f"/api/sessions/{i}/update_state/", session, missing_uuid, {"state": {"x": 1}}),
        ("GET", lambda i: f"/api/files/{i}/content", str(team_a["file"]), "12345", None),
        (
            "POST",
            lambda i: f"/api/openai/{i}/chat/completions",
            chatbot,
            missing_uuid,
            {"messages": [{"role": "user", "content": "hi"}]},
        ),
        ("POST", lambda i: f"/channels/api/{i}/incoming_message", chatbot, missing_uuid, {"message": "hi"}),
        ("POST", lambda i: "/api/trigger_bot", chatbot, missing_uuid, None),
    ]
    for method, path_for, real, missing, body in checks[:-1]:
        same_as_missing(b, method, path_for, real, missing, body)

    trigger = {"identifier": "x", "platform": "telegram", "message_text": "hi"}
    for path in ("/api/trigger_bot", "/api/v2/trigger_bot/"):
        theirs = b.post(path, json={**trigger, "experiment": chatbot})
        nothing = b.post(path, json={**trigger, "experiment": missing_uuid})
        assert (theirs.status_code, theirs.json()) == (nothing.status_code, nothing.json())
        assert theirs.status_code in (403, 404)  # a machine token's allowlist is checked first
    participants = b.post("/api/participants", json={"identifier": "p", "data": [{"experiment": chatbot}]})
    assert participants.status_code == 404

    for path in (
        "/api/sessions/",
        "/api/participants",
        f"/api/sessions/?experiment={chatbot}",
        f"/api/participants?chatbot={chatbot}",
        "/api/sessions/?tags=a-only",
    ):
        listed = b.get(path).json()
        assert listed["results"] == [] and listed["count"] == 0, path

    assert chatbot not in [e["id"] for e in b.get("/api/experiments/").json()["results"]]
    assert chatbot not in [c["id"] for c in b.get("/api/v2/chatbots/").json()["results"]]
    # B's credential is someone of B's team (a machine token is no one: it acts as no user).
    me = b.get("/api/v2/me/")
    machine = "Authorization" in b.headers
    assert me.status_code == (403 if machine else 200)
    assert machine or me.json()["team"]["slug"] not in ("", team_a["slug"])
    # B's event feed holds B's events only, whatever the filter or cursor.
    feed = b.get("/api/events/?limit=1000").json()["events"]
    assert feed and len({event["team"] for event in feed}) == 1
    assert not {session, chatbot} & {event["aggregate_id"] for event in feed}
    for query in (f"aggregate_id={session}", f"aggregate_id={chatbot}", "types=ChatSession.*&after=0"):
        assert all(event["team"] == feed[0]["team"] for event in b.get(f"/api/events/?{query}").json()["events"])
    assert b.get(f"/api/events/?aggregate_id={session}").json()["events"] == []
    # And nothing of A changed.
    a_session = stack.system.app.repository.get(uuid.UUID(session))
    assert a_session.status == "setup" and a_session.user_tags == ["a-only"]
