"""Embedded-widget channel of one chatbot. Its id is derived from its embed key, so the key is not stored."""

from uuid import UUID

from command_api.domain.base import OcsAggregate, derived_id

AUTH_LEVELS = ("none", "embed_key", "session_token")


class WidgetChannel(OcsAggregate):
    class Created(OcsAggregate.Created):
        chatbot_id: str
        allowed_domains: list
        auth_level: str

    def __init__(self, id: UUID, team: str, chatbot_id: str, allowed_domains: list, auth_level: str):
        self.team = team
        self.chatbot_id = chatbot_id
        self.allowed_domains = allowed_domains
        self.auth_level = auth_level


def widget_channel_id(embed_key: str) -> UUID:
    return derived_id("widget_channel", embed_key)
