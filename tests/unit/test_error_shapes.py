"""schemas.errors: marshmallow's error messages reshaped as OCS (DRF) answers them (SPEC §1.9)."""

from schemas.errors import ApiError, detail, drf_shaped, error, field_errors


def test_list_item_errors_become_one_entry_per_item_with_empty_objects_for_valid_items():
    messages = {"items": {1: {"name": ["bad"]}}}

    assert drf_shaped(messages, {"items": ["ok", "bad", "ok"]}) == {"items": [{}, {"name": ["bad"]}, {}]}


def test_schema_errors_become_non_field_errors():
    assert drf_shaped({"_schema": ["Invalid input type."]}, "text") == {"non_field_errors": ["Invalid input type."]}


def test_nested_lists_and_schema_errors_are_reshaped_at_every_depth():
    # SPEC §1.9's example: {"data": [{}, {"schedules": [{"non_field_errors": [...]}]}]}
    messages = {"data": {1: {"schedules": {0: {"_schema": ["bad schedule"]}}}}}
    data = {"data": [{}, {"schedules": [{}]}]}

    assert drf_shaped(messages, data) == {"data": [{}, {"schedules": [{"non_field_errors": ["bad schedule"]}]}]}


def test_field_messages_and_plain_string_errors_are_kept_as_they_are():
    messages = {"name": ["This field is required."], "participant": "This field is required."}

    assert drf_shaped(messages, {}) == messages


def test_an_integer_keyed_error_on_a_non_list_value_is_left_keyed():
    # Only a list in the request can be answered item by item; anything else keeps marshmallow's keys.
    assert drf_shaped({"meta": {0: ["bad"]}}, {"meta": {"a": 1}}) == {"meta": {0: ["bad"]}}


def test_error_constructors_give_the_catalogue_shapes():
    assert (detail(404, "Not found.").status, detail(404, "Not found.").body) == (404, {"detail": "Not found."})
    assert field_errors({"a": ["b"]}).status == 400
    assert error(409, "busy").body == {"error": "busy"}


def test_an_error_message_is_its_text_when_it_has_one():
    assert detail(404, "Invalid cursor").message() == "Invalid cursor"
    assert error(400, "nope").message() == "nope"
    assert ApiError(400, {"a": ["b"]}).message() == "{'a': ['b']}"
