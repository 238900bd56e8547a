"""Marshmallow fields that validate like OCS's serializers and say so in OCS's words (SPEC §1.9)."""

import uuid
from datetime import datetime, timezone
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from marshmallow import ValidationError, fields

REQUIRED = "This field is required."
NULL = "This field may not be null."


def decimal_digits(text: str) -> bool:
    """Whether `text` is only the digits 0-9: `str.isdigit()` also takes digits such as '³' that `int()` refuses."""
    return text.isascii() and text.isdigit()


class DrfMixin:
    default_error_messages = {"required": REQUIRED, "null": NULL}


def type_name(value) -> str:
    return {dict: "dict", list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(
        type(value), type(value).__name__
    )


class String(DrfMixin, fields.Field):
    """A CharField: numbers become text, surrounding space is trimmed, blank is refused unless allowed."""

    default_error_messages = {"invalid": "Not a valid string.", "blank": "This field may not be blank."}

    def __init__(self, *, allow_blank: bool = False, max_length: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.allow_blank = allow_blank
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.make_error("invalid")
        text = str(value).strip()
        if not text and not self.allow_blank:
            raise self.make_error("blank")
        if self.max_length is not None and len(text) > self.max_length:
            raise ValidationError(f"Ensure this field has no more than {self.max_length} characters.")
        return text


class Uuid(DrfMixin, fields.Field):
    """A UUID whose error text is given per use: OCS words it differently on different endpoints."""

    def __init__(self, *, invalid_message: str = "Must be a valid UUID.", **kwargs):
        super().__init__(**kwargs)
        self.invalid_message = invalid_message

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return str(uuid.UUID(str(value)))
        except (ValueError, TypeError, AttributeError):
            raise ValidationError(self.invalid_message.format(value=value)) from None


class Integer(DrfMixin, fields.Field):
    """An IntegerField: integral numbers and digit strings; not booleans or fractions."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("A valid integer is required.")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and decimal_digits(value.strip().removeprefix("-")) and len(value) < 30:
            return int(value)
        raise ValidationError("A valid integer is required.")


class DateTime(DrfMixin, fields.Field):
    """An ISO-8601 instant, kept as canonical UTC text (`...Z`); a missing offset means UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            instant = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            instant = instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)
            return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except (ValueError, OverflowError):
            raise ValidationError(
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
            ) from None


class Boolean(DrfMixin, fields.Field):
    TRUE = (True, 1, "true", "True", "1", "yes", "on")
    FALSE = (False, 0, "false", "False", "0", "no", "off")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (bool, int, str)) and value in self.TRUE:
            return True
        if isinstance(value, (bool, int, str)) and value in self.FALSE:
            return False
        raise ValidationError("Must be a valid boolean.")


class Choice(DrfMixin, fields.Field):
    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or value not in self.choices:
            raise ValidationError(f'"{value}" is not a valid choice.')
        return value


class Choices(DrfMixin, fields.Field):
    """A MultipleChoiceField: a query parameter given once per choice (`?metric=cost&metric=tokens`), in order, once
    each."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError(f'Expected a list of items but got type "{type_name(value)}".')
        if not value:
            raise ValidationError("This selection may not be empty.")
        for item in value:
            if not isinstance(item, str) or item not in self.choices:
                raise ValidationError(f'"{item}" is not a valid choice.')
        return list(dict.fromkeys(value))


class LocalDateTime(DrfMixin, fields.Field):
    """An ISO-8601 date or datetime, kept as given: one that names no offset is read in a timezone the request names
    elsewhere (so it stays naive here)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value)
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            raise ValidationError(
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
            ) from None


@cache
def timezone_names() -> frozenset[str]:
    """Read from the tz database's files once: listing them costs milliseconds."""
    return frozenset(available_timezones())


class TimeZoneName(DrfMixin, fields.Field):
    """An IANA timezone's name (`Europe/Paris`), as the system's tz database knows it."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or value not in timezone_names():
            raise ValidationError(f'"{value}" is not a valid timezone.')
        return ZoneInfo(value)


class Object(DrfMixin, fields.Field):
    """A JSON object of any content."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError(f'Expected a dictionary of items but got type "{type_name(value)}".')
        return value


class AnyJson(DrfMixin, fields.Raw):
    pass


class ListOf(DrfMixin, fields.List):
    """A ListField; `max_length` bounds the items (each becomes work, or an event, on the write side)."""

    default_error_messages = {"invalid": "Expected a list of items."}

    def __init__(self, *args, max_length: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError(f'Expected a list of items but got type "{type_name(value)}".')
        if self.max_length is not None and len(value) > self.max_length:
            raise ValidationError(f"Ensure this field has no more than {self.max_length} elements.")
        return super()._deserialize(value, attr, data, **kwargs)


class NestedObject(DrfMixin, fields.Nested):
    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError(
                {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type_name(value)}."]}
            )
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)
