"""Embedded-widget channel of one chatbot.

In `embed_key` credential mode (the default) its id is derived from its embed key, so the key is not
stored. In `oauth` mode (SPEC §3.15 a) callers present an OAuth machine token instead and there is no
embed key: a chatbot has at most one such channel, whose id is derived from the chatbot's."""

from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id

AUTH_LEVELS = ("none", "embed_key", "session_token")
CREDENTIAL_MODES = ("embed_key", "oauth")
PLATFORM = "embedded_widget"
DEFAULT_DISABLED_MESSAGE = "This chatbot is currently unavailable."


class WidgetChannel(OcsAggregate):
    class Created(OcsAggregate.Created):
        chatbot_id: str
        allowed_domains: list
        auth_level: str
        credential_mode: str

    class Disabled(OcsAggregate.Event):
        disabled_message: str

        def apply(self, channel: "WidgetChannel") -> None:
            channel.enabled = False
            channel.disabled_message = self.disabled_message

    class Enabled(OcsAggregate.Event):
        def apply(self, channel: "WidgetChannel") -> None:
            channel.enabled = True

    def __init__(
        self,
        id: UUID,
        team: str,
        chatbot_id: str,
        allowed_domains: list,
        auth_level: str,
        credential_mode: str = "embed_key",  # channels recorded before OAuth mode existed
    ):
        self.team = team
        self.chatbot_id = chatbot_id
        self.allowed_domains = allowed_domains
        self.auth_level = auth_level
        self.credential_mode = credential_mode
        self.enabled = True
        self.disabled_message = ""

    @property
    def issues_session_tokens(self) -> bool:
        return self.auth_level == "session_token"

    def disable(self, message: str) -> None:
        self.trigger_event(self.Disabled, disabled_message=message)

    def enable(self) -> None:
        if not self.enabled:
            self.trigger_event(self.Enabled)


def oauth_widget_channel_id(chatbot_id: str) -> UUID:
    return derived_id("oauth_widget_channel", str(chatbot_id))
