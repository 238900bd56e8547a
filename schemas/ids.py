"""Ids derived from natural keys (a team's slug, a key's prefix, a widget's embed key, ...): deriving them makes
"create" unique on the write model without a lookup table, and lets any side find a document by what it holds."""

from uuid import NAMESPACE_URL, UUID, uuid5

OCS_NAMESPACE = uuid5(NAMESPACE_URL, "https://openchatstudio.com/ocs-cqrs")


def derived_id(kind: str, *parts: str) -> UUID:
    return uuid5(OCS_NAMESPACE, ":".join((kind, *parts)))


def widget_channel_id(embed_key: str) -> UUID:
    """The widget channel an embed key belongs to."""
    return derived_id("widget_channel", embed_key)


def canonical_uuid(value) -> str | None:
    """A UUID in its one text form, however a client spelled it (upper case, braces, `urn:uuid:`); None when the
    value is no UUID."""
    try:
        return str(UUID(str(value)))
    except ValueError:
        return None


def derived_number(kind: str, *parts: str) -> int:
    """An integer id for what OCS numbers (it stores them in rows) and this server has no row for: derived from what
    it is, so the same thing gets the same number on every call and every process. It fits OCS's ids (31 bits)."""
    return derived_id(kind, *parts).int % 2**31


def user_number(team: str, user: str) -> int:
    """The number API v2's `Me.id` gives a user: users here are identities keys act as."""
    return derived_number("user", team, user)


def model_number(model: str) -> int:
    """The id a model has in a pipeline node's `llm_provider_model_id`: models here are the names chatbots give."""
    return derived_number("model", model)


def pipeline_number(chatbot_id: str, version_number: int) -> int:
    """The id inspect gives a chatbot version's pipeline: pipelines here are part of their version."""
    return derived_number("pipeline", chatbot_id, str(version_number))
