"""Generated hostile JSON through every write endpoint cannot stall or corrupt the pipeline for anyone else: after
it, another team's write shows in its read model as the write answers, `/healthz` says ok and means it, and the
read models equal a rebuild of the event store. `-m slow` runs many more examples."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.kafka import DEFAULT_MAX_MESSAGE_BYTES, max_event_bytes
from projectors.rebuild import rebuild
from schemas.read_models import COLLECTIONS
from tests.stack import ChatClient, eventually

LIMIT = max_event_bytes(DEFAULT_MAX_MESSAGE_BYTES)
UNPAIRED = ["\ud800", "\udfff", "a\udbff", "\udc00z"]

# Text near and past every limit: a tag's 100 characters, an event's, the 2 MB body.
sizes = st.sampled_from([0, 1, 100, 101, 5_000, LIMIT - 2_000, LIMIT + 1, 2 * 1024 * 1024 + 1])
long_text = sizes.map(lambda n: "x" * n)
# Mostly text any client might send, sometimes hostile: each request has many fields, and one refused field
# refuses the request, so most fields must be fine for most requests to reach the event store.
plain_text = st.text(min_size=1, max_size=30)
text = st.one_of(*[plain_text] * 6, st.sampled_from(UNPAIRED), long_text.filter(lambda t: len(t) < 10_000))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),  # infinities included: they are refused as JSON
    text,
)


def with_markers(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(["_type_", "_data_", "$set", "a.b"])), children, max_size=4
        ),
        st.fixed_dictionaries(
            {"_type_": st.one_of(st.sampled_from(["datetime_iso", "uuid_hex", "nope"]), children), "_data_": children}
        ),
    )


values = st.recursive(scalars, with_markers, max_leaves=12)
objects = st.one_of(*[st.dictionaries(st.text(max_size=8), values, max_size=5)] * 4, values)
big_or_small = st.one_of(*[plain_text] * 4, text, long_text, values)
tags = st.one_of(
    st.lists(st.text(min_size=1, max_size=12).filter(str.strip), min_size=1, max_size=8),
    st.lists(st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(UNPAIRED), long_text), max_size=8),
    st.integers(0, 600).map(lambda n: [f"tag-{i}" for i in range(n)]),
    values,
)


def hostile_requests(draw, tenant, session_id: str, chat: ChatClient):
    """(client, method, path, body) for each write endpoint, with generated values where a client puts its own."""
    bot = tenant.chatbot_id
    client = tenant.client()
    return [
        (
            client,
            "POST",
            "/api/sessions/",
            {
                "experiment": bot,
                "state": draw(objects),
                "page_context": draw(objects),
                "messages": [{"role": "user", "content": draw(big_or_small)}],
            },
        ),
        (client, "POST", f"/api/sessions/{session_id}/tags/", {"tags": draw(tags)}),
        (client, "DELETE", f"/api/sessions/{session_id}/tags/", {"tags": draw(tags)}),
        (client, "PATCH", f"/api/sessions/{session_id}/update_state/", {"state": draw(objects)}),
        (
            client,
            "POST",
            "/api/participants",
            {
                "identifier": draw(big_or_small),
                "name": draw(big_or_small),
                "data": [{"experiment": bot, "data": draw(objects)}],
            },
        ),
        (
            client,
            "POST",
            "/api/trigger_bot",
            {
                "identifier": draw(text),
                "platform": "whatsapp",
                "experiment": bot,
                "message_text": draw(big_or_small),
                "session_data": draw(objects),
                "participant_data": draw(objects),
            },
        ),
        (
            chat,
            "POST",
            "/api/chat/start/",
            {
                "chatbot_id": bot,
                "page_context": draw(objects),
                "participant_name": draw(big_or_small),
                "session_data": draw(objects),
            },
        ),
        (
            chat,
            "POST",
            f"/api/chat/{chat.session_id}/message/",
            {"message": draw(big_or_small), "context": draw(objects)},
        ),
        (
            client,
            "POST",
            f"/api/openai/{bot}/chat/completions",
            {"messages": [{"role": "user", "content": draw(big_or_small)}], "user": draw(values)},
        ),
        (client, "POST", f"/channels/api/{bot}/incoming_message", {"message": draw(big_or_small)}),
    ]


def read_models(db) -> dict:
    return {name: sorted(db[name].find(), key=lambda doc: str(doc["_id"])) for name in COLLECTIONS}


def assert_unharmed(stack, writes: int) -> None:
    canary = stack.new_tenant()
    created = canary.create_session(state={"canary": True})
    assert canary.client().get(f"/api/sessions/{created['id']}/").status_code == 200
    health = canary.client().get("/healthz")
    assert (health.status_code, health.json()["problems"]) == (200, []), f"after {writes} hostile writes"


def assert_read_models_equal_a_rebuild(stack) -> None:
    system = stack.system
    rebuilt = system.mongo[f"{system.settings.mongo_db}_rebuilt"]
    held_back = system.dead_letters("ocs-relay").held_back()
    assert held_back == {}, "nothing the API accepted was parked"
    rebuild(rebuilt, system.app.published_envelopes(held_back))
    expected = read_models(rebuilt)
    assert eventually(lambda: read_models(system.db) == expected, timeout_s=30), "the live read models differ"
    system.mongo.drop_database(rebuilt.name)


def run_hostile_writes(stack, examples: int) -> None:
    tenant = stack.new_tenant()
    stack.admin(f"create-channel --chatbot {tenant.chatbot_id} --platform whatsapp")
    session_id = tenant.create_session()["id"]
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id)
    sent = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(st.data())
    def hostile(data):
        for client, method, path, body in hostile_requests(data.draw, tenant, session_id, chat):
            raw = json.dumps(body)  # unpaired surrogates travel escaped, infinities as `Infinity`
            response = client.request(method, path, data=raw, headers={"Content-Type": "application/json"})
            assert response.status_code < 500 or response.status_code == 502, (method, path, response.text[:300])
            sent.append(response.status_code)

    hostile()
    assert_unharmed(stack, len(sent))
    assert_read_models_equal_a_rebuild(stack)


def test_generated_hostile_writes_leave_the_pipeline_unharmed(stack):
    run_hostile_writes(stack, examples=8)


@pytest.mark.slow
def test_generated_hostile_writes_leave_the_pipeline_unharmed_for_long(stack):
    run_hostile_writes(stack, examples=150)
