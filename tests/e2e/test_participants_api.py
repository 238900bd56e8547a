"""GET/POST /api/participants (SPEC §3.8, §6 items 20-23)."""

import uuid

import pytest


def upsert(tenant, **body):
    return tenant.client().post("/api/participants", json=body)


def test_upsert_creates_the_participant_with_its_data(tenant):
    response = upsert(
        tenant,
        identifier="+15551234",
        name="Jane",
        platform="whatsapp",
        data=[{"experiment": tenant.chatbot_id, "data": {"plan": "gold"}}],
    )
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("identifier", "name", "platform", "remote_id")} == {
        "identifier": "+15551234",
        "name": "Jane",
        "platform": "whatsapp",
        "remote_id": "",
    }
    assert body["data"] == [
        {
            "chatbot": "Support Bot",
            "chatbot_id": tenant.chatbot_id,
            "data": {"plan": "gold"},
            "connect_channel_id": None,
        }
    ]
    listed = tenant.client().get("/api/participants").json()
    assert listed["count"] == 1 and listed["results"] == [body]


def test_data_is_replaced_and_kept_when_omitted(tenant):
    entry = {"experiment": tenant.chatbot_id}
    upsert(tenant, identifier="p1", data=[{**entry, "data": {"a": 1, "b": 2}}])
    assert upsert(tenant, identifier="p1", data=[{**entry, "data": {"a": 3}}]).json()["data"][0]["data"] == {"a": 3}
    assert upsert(tenant, identifier="p1", data=[entry]).json()["data"][0]["data"] == {"a": 3}
    assert upsert(tenant, identifier="p1", data=[{**entry, "data": {}}]).json()["data"][0]["data"] == {"a": 3}


def test_the_answer_lists_all_the_participants_data(tenant):
    second = tenant.new_chatbot("Second")
    upsert(tenant, identifier="p2", data=[{"experiment": tenant.chatbot_id, "data": {"x": 1}}])
    body = upsert(tenant, identifier="p2", data=[{"experiment": second, "data": {"y": 2}}]).json()
    assert sorted((d["chatbot"], d["data"]["x" if "x" in d["data"] else "y"]) for d in body["data"]) == [
        ("Second", 2),
        ("Support Bot", 1),
    ]


def test_unknown_or_foreign_chatbots_write_nothing(stack, tenant):
    foreign = stack.new_tenant().chatbot_id
    unknown = str(uuid.uuid4())
    response = upsert(
        tenant,
        identifier="p3",
        data=[{"experiment": tenant.chatbot_id, "data": {"a": 1}}, {"experiment": foreign}, {"experiment": unknown}],
    )
    assert response.status_code == 404
    assert sorted(e["message"] for e in response.json()["errors"]) == sorted(
        [f"Experiment {foreign} not found", f"Experiment {unknown} not found"]
    )
    assert tenant.client().get("/api/participants?identifier=p3").json()["results"] == []


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"delete": True}, "Schedule ID is required to delete a schedule"),
        ({"name": "n", "prompt": "p"}, "Schedule Name, Prompt, and Date are required to create or update a schedule"),
    ],
)
def test_schedule_validation(tenant, schedule, message):
    response = upsert(tenant, identifier="p4", data=[{"experiment": tenant.chatbot_id, "schedules": [schedule]}])
    assert response.status_code == 400
    assert response.json() == {"data": [{"schedules": [{"non_field_errors": [message]}]}]}


def test_schedules_are_created_updated_and_cancelled_as_events(stack, tenant):
    entry = {"experiment": tenant.chatbot_id}
    create = {"id": "s1", "name": "Reminder", "prompt": "Remind them", "date": "2030-01-01T09:00:00Z"}
    update = {**create, "prompt": "Remind them again", "date": "2030-01-02T09:00:00+02:00"}
    participant = upsert(tenant, identifier="p5", data=[{**entry, "schedules": [create]}]).json()
    upsert(tenant, identifier="p5", data=[{**entry, "schedules": [update]}])
    upsert(
        tenant,
        identifier="p5",
        data=[{**entry, "schedules": [{"id": "s1", "delete": True}, {"id": "nope", "delete": True}]}],
    )
    events = [e for e in stack.system.app.all_envelopes() if e["aggregate_id"] == participant["id"]]
    schedule_events = [(e["type"], e["data"]) for e in events if "Schedule" in e["type"]]
    assert schedule_events == [
        (
            "Participant.ScheduleSet",
            {
                "chatbot_id": tenant.chatbot_id,
                "schedule_id": "s1",
                "name": "Reminder",
                "prompt": "Remind them",
                "date": "2030-01-01T09:00:00.000000Z",
            },
        ),
        (
            "Participant.ScheduleSet",
            {
                "chatbot_id": tenant.chatbot_id,
                "schedule_id": "s1",
                "name": "Reminder",
                "prompt": "Remind them again",
                "date": "2030-01-02T07:00:00.000000Z",
            },
        ),
        (
            "Participant.ScheduleCancelled",
            {"chatbot_id": tenant.chatbot_id, "schedule_id": "s1", "cancelled_by": f"admin@{tenant.slug}"},
        ),
    ]


def test_list_filters(tenant):
    second = tenant.new_chatbot("Second")
    upsert(tenant, identifier="a@x.org", data=[{"experiment": tenant.chatbot_id, "data": {"n": 1}}])
    upsert(tenant, identifier="b@x.org", platform="email", data=[{"experiment": second, "data": {"n": 2}}])
    client = tenant.client()
    assert [p["identifier"] for p in client.get("/api/participants").json()["results"]] == ["b@x.org", "a@x.org"]
    assert [p["identifier"] for p in client.get("/api/participants?platform=email").json()["results"]] == ["b@x.org"]
    only = client.get(f"/api/participants?chatbot={second}").json()["results"]
    assert [(p["identifier"], [d["chatbot_id"] for d in p["data"]]) for p in only] == [("b@x.org", [second])]
    assert client.get(f"/api/participants?experiment={uuid.uuid4()}").json()["results"] == []
    assert client.get("/api/participants/?identifier=a@x.org").json()["count"] == 1
    assert client.get("/api/participants?chatbot=xyz").json() == {"chatbot": "Must be a valid UUID."}
    assert client.get("/api/participants?experiment=xyz").json() == {"experiment": "Must be a valid UUID."}


def test_validation_and_read_only_keys(tenant):
    assert upsert(tenant, data=[]).json() == {"identifier": ["This field is required."]}
    assert upsert(tenant, identifier="x", platform="fax", data=[]).json() == {
        "platform": ['"fax" is not a valid choice.']
    }
    response = tenant.client(tenant.read_only_key).post("/api/participants", json={"identifier": "x", "data": []})
    assert response.status_code == 403
