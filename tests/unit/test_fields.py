"""schemas.fields: single fields that validate like DRF's and say so in DRF's words."""

import pytest
from marshmallow import ValidationError, missing

from schemas.fields import NULL, REQUIRED, Choice, Integer, ListOf, Object, String, Uuid, decimal_digits


def messages_of(field, value) -> list:
    with pytest.raises(ValidationError) as raised:
        field.deserialize(value)
    return raised.value.messages


@pytest.mark.parametrize(
    "field",
    [
        String(required=True),
        Uuid(required=True),
        Object(required=True),
        ListOf(String(), required=True),
        Choice(("a",), required=True),
    ],
)
def test_a_missing_required_field_says_this_field_is_required(field):
    assert messages_of(field, missing) == [REQUIRED]


def test_null_says_this_field_may_not_be_null():
    assert messages_of(String(), None) == [NULL]


@pytest.mark.parametrize("value, text", [(" hi ", "hi"), (42, "42"), (1.5, "1.5")])
def test_a_string_trims_and_accepts_numbers_as_text(value, text):
    assert String().deserialize(value) == text


@pytest.mark.parametrize("value", [True, [], {}])
def test_a_string_refuses_booleans_and_containers(value):
    assert messages_of(String(), value) == ["Not a valid string."]


def test_a_blank_string_is_refused_unless_allowed():
    assert messages_of(String(), "   ") == ["This field may not be blank."]
    assert String(allow_blank=True).deserialize("   ") == ""


def test_max_length_counts_the_trimmed_text():
    assert String(max_length=3).deserialize("  abc  ") == "abc"
    assert messages_of(String(max_length=3), "abcd") == ["Ensure this field has no more than 3 characters."]


def test_a_uuid_is_normalised_and_its_error_text_is_chosen_per_use():
    assert Uuid().deserialize("{12345678-1234-5678-1234-567812345678}") == "12345678-1234-5678-1234-567812345678"
    assert messages_of(Uuid(), "x") == ["Must be a valid UUID."]
    sessions_wording = Uuid(invalid_message="“{value}” is not a valid UUID.")
    assert messages_of(sessions_wording, "nope") == ["“nope” is not a valid UUID."]


@pytest.mark.parametrize("value", ["c", 1, ["a"]])
def test_a_value_outside_the_choices_is_not_a_valid_choice(value):
    assert messages_of(Choice(("a", "b")), value) == [f'"{value}" is not a valid choice.']


@pytest.mark.parametrize("value, kind", [([], "list"), ("x", "str"), (1, "int"), (True, "bool")])
def test_an_object_names_the_json_type_it_got(value, kind):
    assert messages_of(Object(), value) == [f'Expected a dictionary of items but got type "{kind}".']


def test_a_list_names_the_json_type_it_got():
    assert messages_of(ListOf(String()), {"a": 1}) == ['Expected a list of items but got type "dict".']


@pytest.mark.parametrize("text", ["³", "١٢", "--5", "-", ""])
def test_an_integer_refuses_what_int_cannot_read(text):
    """`str.isdigit()` takes '³', which int() refuses, and Arabic-Indic digits, which int() reads: only 0-9 count."""
    assert messages_of(Integer(), text) == ["A valid integer is required."]


def test_decimal_digits_are_0_to_9_only():
    assert (
        decimal_digits("0123456789") and not decimal_digits("³") and not decimal_digits("١٢") and not decimal_digits("")
    )
