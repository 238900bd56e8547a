"""POST /api/sessions/ body validation, with OCS's (DRF's) error texts and error-body shape (SPEC §1.9, §3.3b)."""

from uuid import uuid4

import pytest
from marshmallow import ValidationError

from schemas.errors import from_validation_error
from schemas.requests import RESERVED_KEY_MESSAGE, SessionCreateRequest

EXPERIMENT = str(uuid4())


def error_body(data) -> dict:
    """The 400 body the API answers for this request body."""
    with pytest.raises(ValidationError) as raised:
        SessionCreateRequest().load(data)
    error = from_validation_error(raised.value, data)
    assert error.status == 400
    return error.body


def test_only_experiment_is_required_and_the_rest_default():
    assert SessionCreateRequest().load({"experiment": EXPERIMENT}) == {
        "experiment": EXPERIMENT,
        "participant": None,
        "messages": [],
        "state": {},
        "page_context": None,
    }


def test_the_experiment_uuid_is_normalised():
    assert SessionCreateRequest().load({"experiment": EXPERIMENT.upper()})["experiment"] == EXPERIMENT


def test_fields_a_client_may_not_set_are_ignored_not_refused():
    assert "url" not in SessionCreateRequest().load({"experiment": EXPERIMENT, "url": "http://x/"})


@pytest.mark.parametrize(
    "body, expected",
    [
        pytest.param({}, {"experiment": ["This field is required."]}, id="experiment missing"),
        pytest.param({"experiment": None}, {"experiment": ["This field may not be null."]}, id="experiment null"),
        pytest.param({"experiment": "nope"}, {"experiment": ["“nope” is not a valid UUID."]}, id="experiment not uuid"),
        pytest.param(
            {"experiment": EXPERIMENT, "participant": "  "},
            {"participant": ["This field may not be blank."]},
            id="participant blank",
        ),
        pytest.param(
            {"experiment": EXPERIMENT, "participant": True},
            {"participant": ["Not a valid string."]},
            id="participant bool",
        ),
        pytest.param(
            {"experiment": EXPERIMENT, "participant": "x" * 321},
            {"participant": ["Ensure this field has no more than 320 characters."]},
            id="participant long",
        ),
        pytest.param(
            {"experiment": EXPERIMENT, "messages": "hi"},
            {"messages": ['Expected a list of items but got type "str".']},
            id="messages not list",
        ),
        pytest.param(
            {"experiment": EXPERIMENT, "messages": None},
            {"messages": ["This field may not be null."]},
            id="messages null",
        ),
        pytest.param(
            {"experiment": EXPERIMENT, "state": []},
            {"state": ['Expected a dictionary of items but got type "list".']},
            id="state not object",
        ),
        pytest.param(
            {"experiment": EXPERIMENT, "page_context": "x"},
            {"page_context": ['Expected a dictionary of items but got type "str".']},
            id="page_context not object",
        ),
    ],
)
def test_a_bad_field_is_a_list_of_messages_under_its_name(body, expected):
    assert error_body(body) == expected


def test_a_bad_message_is_reported_at_its_position_with_empty_objects_for_good_ones():
    body = {
        "experiment": EXPERIMENT,
        "messages": [
            {"role": "user", "content": "fine"},
            {"role": "bot", "content": "x"},
            "not an object",
            {},
            {"role": "user", "content": " "},
        ],
    }

    assert error_body(body) == {
        "messages": [
            {},
            {"role": ['"bot" is not a valid choice.']},
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
            {"role": ["This field is required."], "content": ["This field is required."]},
            {"content": ["This field may not be blank."]},
        ]
    }


def test_every_bad_field_is_reported_at_once():
    body = {"experiment": "nope", "participant": "", "state": 1}

    assert set(error_body(body)) == {"experiment", "participant", "state"}


def test_state_may_not_set_the_reserved_page_context_key():
    body = {"experiment": EXPERIMENT, "state": {"page_context": {"x": 1}}}

    assert error_body(body) == {"state": [RESERVED_KEY_MESSAGE]}


def test_page_context_is_accepted_as_its_own_parameter():
    loaded = SessionCreateRequest().load({"experiment": EXPERIMENT, "state": {"a": 1}, "page_context": {"x": 1}})

    assert (loaded["state"], loaded["page_context"]) == ({"a": 1}, {"x": 1})


def test_message_content_is_trimmed_and_a_numeric_participant_becomes_text():
    loaded = SessionCreateRequest().load(
        {"experiment": EXPERIMENT, "participant": 42, "messages": [{"role": "system", "content": "  be brief "}]}
    )

    assert loaded["participant"] == "42"
    assert loaded["messages"] == [{"role": "system", "content": "be brief"}]


def test_lists_whose_items_each_cost_the_read_models_a_write_are_bounded():
    from schemas.requests import ParticipantUpsertRequest, completion_messages

    message = {"role": "user", "content": "hi"}
    assert (
        len(SessionCreateRequest().load({"experiment": EXPERIMENT, "messages": [message] * 1000})["messages"]) == 1000
    )
    assert error_body({"experiment": EXPERIMENT, "messages": [message] * 1001}) == {
        "messages": ["Ensure this field has no more than 1000 elements."]
    }
    with pytest.raises(Exception) as refused:
        completion_messages({"messages": [message] * 1001})
    assert refused.value.body["error"]["message"] == "At most 1000 messages per request"

    schedule = {"name": "n", "prompt": "p", "date": "2030-01-01T00:00:00Z"}
    upsert = {"identifier": "x", "data": [{"experiment": EXPERIMENT, "schedules": [schedule] * 101}]}
    with pytest.raises(ValidationError) as raised:
        ParticipantUpsertRequest().load(upsert)
    assert raised.value.messages == {"data": {0: {"schedules": ["Ensure this field has no more than 100 elements."]}}}
    with pytest.raises(ValidationError) as raised:
        ParticipantUpsertRequest().load({"identifier": "x", "data": [{"experiment": EXPERIMENT}] * 101})
    assert raised.value.messages == {"data": ["Ensure this field has no more than 100 elements."]}
