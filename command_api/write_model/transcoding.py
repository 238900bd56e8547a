"""How the write model encodes events and snapshots: eventsourcing's JSON transcoder, made safe for client JSON.

eventsourcing writes a value of a registered type as an object of exactly two keys, `_type_` and `_data_`, and
reads every such object back as that type. Client JSON (page context, session state, participant data, ...)
can hold objects of that very shape, which would then be read back as a datetime, or fail to load at all. So
before encoding, every object of that shape is wrapped: written as its list of key/value pairs, which no decoder
interprets, and read back as the same object. Every other value is encoded exactly as eventsourcing does, so
events recorded before this existed read as they always did.
"""

from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

MARKER_KEYS = frozenset(("_type_", "_data_"))


class ObjectWithMarkerKeys:
    """A client's object whose keys are exactly the transcoder's own (not a dict: the JSON encoder would
    write a dict subclass as a plain object without asking the transcoder)."""

    __slots__ = ("value",)

    def __init__(self, value: dict):
        self.value = value


class ObjectWithMarkerKeysAsPairs(Transcoding):
    type = ObjectWithMarkerKeys
    name = "ocs_object"

    def encode(self, obj: ObjectWithMarkerKeys) -> list:
        return [[key, value] for key, value in obj.value.items()]

    def decode(self, data: list) -> dict:
        return dict((key, value) for key, value in data)


class ClientSafeJSONTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self.register(ObjectWithMarkerKeysAsPairs())

    def encode(self, obj: Any) -> bytes:
        return super().encode(wrapped(obj))


def wrapped(value: Any) -> Any:
    """`value` with every object of exactly the marker keys, at any depth, wrapped; the same object when none
    is (the common case costs one walk and no copy)."""
    if isinstance(value, dict):
        copy = None
        for key, item in value.items():
            new = wrapped(item)
            if new is not item:
                copy = copy if copy is not None else dict(value)
                copy[key] = new
        result = copy if copy is not None else value
        if len(result) == 2 and result.keys() == MARKER_KEYS:
            return ObjectWithMarkerKeys(result)
        return result
    if isinstance(value, (list, tuple)):
        items = [wrapped(item) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items if isinstance(value, list) else tuple(items)
        return value
    return value
