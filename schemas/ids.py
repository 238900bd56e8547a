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


def user_number(team: str, user: str) -> int:
    """The number API v2's `Me.id` gives a user. Users here are identities keys act as, with no row of their own to
    number, so the number is derived from the team and identity: the same user gets the same number on every call
    and every process. It fits OCS's integer ids (31 bits)."""
    return derived_id("user", team, user).int % 2**31


def model_number(model: str) -> int:
    """The id a model has in a pipeline node's `llm_provider_model_id` (OCS numbers the models it stores). Models
    here are names a chatbot gives, so the number is derived from the name: the same on every call and process."""
    return derived_id("model", model).int % 2**31
