"""The Responses API's request checks (`schemas/responses_api.py`): what is taken, what is refused, and the ids."""

import uuid

import pytest

from schemas.errors import ApiError
from schemas.responses_api import message_uuid, response_id, response_request, response_uuid


def refusal(body) -> dict:
    with pytest.raises(ApiError) as raised:
        response_request(body)
    return {"status": raised.value.status, **raised.value.body["error"]}


def test_a_string_input_is_the_users_message_and_the_defaults_apply():
    request = response_request({"model": "any", "input": "hi"})
    assert (request.history, request.text) == ((), "hi")
    assert (request.store, request.stream, request.metadata, request.user, request.instructions) == (
        True,
        False,
        {},
        None,
        None,
    )


def test_message_items_become_history_and_the_last_users_message():
    request = response_request(
        {
            "input": [
                {"type": "message", "role": "developer", "content": "be brief"},
                {"role": "assistant", "content": [{"type": "output_text", "text": "earlier"}]},
                {
                    "role": "user",
                    "content": [{"type": "input_text", "text": "two"}, {"type": "input_text", "text": "parts"}],
                },
            ],
            "user": "  someone  ",
            "store": False,
            "stream": True,
            "metadata": {"k": "v"},
        }
    )
    assert request.history == ({"role": "system", "content": "be brief"}, {"role": "assistant", "content": "earlier"})
    assert (request.text, request.user, request.store, request.stream) == ("two parts", "someone", False, True)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "tools": [{"type": "function", "name": "f"}]}, "tools"),
        ({"input": "x", "tool_choice": "required"}, "tool_choice"),
        ({"input": "x", "reasoning": {}}, "reasoning"),
        ({"input": "x", "background": True}, "background"),
        ({"input": "x", "text": {"format": {"type": "json_schema"}}}, "text"),
        ({"input": "x", "text": "plain"}, "text"),
        ({"input": None}, "input"),
        ({"input": [{"role": "user", "content": []}]}, "input[0]"),
        ({"input": [{"role": "user", "content": [{"type": "input_text", "text": 3}]}]}, "input[0]"),
        ({"input": ["not an item"]}, "input[0]"),
        ({"input": [{"role": "user", "content": "x"}] * 1001}, "input"),
        ({"input": "x", "metadata": ["k", "v"]}, "metadata"),
        ({"input": "x", "instructions": "i" * 100_001}, "instructions"),
        ({"input": "x", "user": "u" * 321}, "user"),
        ({"input": "x", "stream": 1}, "stream"),
        ({"input": "x", "previous_response_id": 7}, "previous_response_id"),
    ],
)
def test_what_cannot_be_honoured_is_a_400_naming_its_field(body, param):
    error = refusal(body)
    assert (error["status"], error["param"]) == (400, param) and error["message"]


def test_neutral_values_of_unsupported_fields_are_taken_and_sampling_settings_ignored():
    body = {"input": "x", "tools": [], "tool_choice": "auto", "reasoning": None, "include": []}
    body |= {"text": {"format": {"type": "text"}}, "temperature": 0.2, "max_output_tokens": 5, "truncation": "auto"}
    assert response_request(body).text == "x"


def test_a_body_that_is_no_object_is_refused():
    assert refusal(["input"])["status"] == 400


def test_a_previous_response_id_that_names_no_response_is_missing():
    assert refusal({"input": "x", "previous_response_id": "resp_nope"})["status"] == 404
    aggregate_id = str(uuid.uuid4())
    assert response_request({"input": "x", "previous_response_id": response_id(aggregate_id)}).previous_response_id == (
        aggregate_id
    )


def test_ids_are_prefixed_hex_of_their_uuid():
    aggregate_id = str(uuid.uuid4())
    assert response_uuid(response_id(aggregate_id)) == aggregate_id
    assert message_uuid("msg_" + uuid.UUID(aggregate_id).hex) == aggregate_id
    for malformed in ("", "resp_", "resp_" + "g" * 32, "resp_" + "A" * 32, "msg_" + "0" * 32, uuid.uuid4().hex):
        assert response_uuid(malformed) is None
