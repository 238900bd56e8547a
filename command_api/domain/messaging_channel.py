"""A chatbot's channel on a messaging platform (WhatsApp, Telegram, ...), which bot messages go out on.

This server cannot reach those platforms: a bot message on a channel becomes an outbound-message event
for subscribers to deliver, and, when the channel has a webhook URL, the delivery worker POSTs it there.
There is at most one channel per chatbot and platform, so its id is derived from the two.
"""

from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id

# Team-level channels of OCS that no chatbot-owned messaging channel stands for.
NOT_MESSAGING = ("api", "web", "embedded_widget")


class MessagingChannel(OcsAggregate):
    class Created(OcsAggregate.Created):
        chatbot_id: str
        platform: str
        webhook_url: str | None

    def __init__(self, id: UUID, team: str, chatbot_id: str, platform: str, webhook_url: str | None):
        self.team = team
        self.chatbot_id = chatbot_id
        self.platform = platform
        self.webhook_url = webhook_url


def messaging_channel_id(chatbot_id: str, platform: str) -> UUID:
    return derived_id("messaging_channel", chatbot_id, platform)
