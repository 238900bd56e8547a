"""Chat admission on the command side: sessions and widgets as the write model knows them."""

from command_api.domain.chat_session import ChatSession
from command_api.domain.widget_channel import WidgetChannel
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.chat_admission import SessionAccess, WidgetAccess
from schemas.ids import widget_channel_id


def widget_access(channel: WidgetChannel | None) -> WidgetAccess | None:
    if channel is None:
        return None
    return WidgetAccess(
        channel_id=str(channel.id),
        chatbot_id=channel.chatbot_id,
        allowed_domains=tuple(channel.allowed_domains),
        auth_level=channel.auth_level,
        enabled=channel.enabled,
        disabled_message=channel.disabled_message,
    )


class WriteModelChatAccess:
    def __init__(self, app: OcsApplication):
        self.app = app

    def widget_by_key(self, embed_key: str) -> WidgetAccess | None:
        return widget_access(load(self.app, widget_channel_id(embed_key), WidgetChannel))

    def widget_by_id(self, channel_id: str) -> WidgetAccess | None:
        return widget_access(load(self.app, channel_id, WidgetChannel))

    def session(self, session_id: str) -> SessionAccess | None:
        session = load(self.app, session_id, ChatSession)
        if session is None:
            return None
        return SessionAccess(
            session_id=str(session.id),
            chatbot_id=session.chatbot_id,
            channel_id=session.channel_id,
            session_token_required=session.session_token_required,
            created_at=session.created_on.timestamp(),
        )
