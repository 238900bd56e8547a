"""Command handlers: each loads aggregates from the write model, decides, and saves their new events.

Every decision that must be consistent (does it exist, whose team is it) is made here, on the event
store, never on a read model. `HANDLERS` is the table of contents: each command, and the handler (in the
module of its concern) that runs it.
"""

from command_api import commands
from command_api.handlers import (
    bot_messages,
    channels,
    chat,
    chatbots,
    conversations,
    cookie_sessions,
    model_prices,
    oauth,
    participants,
    replies,
    responses,
    sessions,
    subscriptions,
    teams_and_keys,
)

HANDLERS = {
    commands.CreateTeam: teams_and_keys.create_team,
    commands.IssueApiKey: teams_and_keys.issue_api_key,
    commands.RevokeApiKey: teams_and_keys.revoke_api_key,
    commands.SetAllowedOrigins: teams_and_keys.set_allowed_origins,
    commands.SetModelPrice: model_prices.set_model_price,
    commands.StartCookieSession: cookie_sessions.start_cookie_session,
    commands.EndCookieSession: cookie_sessions.end_cookie_session,
    commands.RegisterOAuthClient: oauth.register_oauth_client,
    commands.IssueAuthorizationCode: oauth.issue_authorization_code,
    commands.IssueOAuthToken: oauth.issue_oauth_token,
    commands.RevokeOAuthToken: oauth.revoke_oauth_token,
    commands.CreateChatbot: chatbots.create_chatbot,
    commands.PublishVersion: chatbots.publish_version,
    commands.CreateWidgetChannel: channels.create_widget_channel,
    commands.CreateSession: sessions.create_session,
    commands.SetWidgetEnabled: channels.set_widget_enabled,
    commands.StartChatSession: chat.start_chat_session,
    commands.UploadChatFiles: chat.upload_chat_files,
    commands.SubmitChatMessage: chat.submit_chat_message,
    commands.RecordReply: replies.record_reply,
    commands.RecordReplyFailure: replies.record_reply_failure,
    commands.CancelReply: replies.cancel_reply,
    commands.EndSession: sessions.end_session,
    commands.TagSession: sessions.tag_session,
    commands.ReplaceSessionState: sessions.replace_session_state,
    commands.UpsertParticipant: participants.upsert_participant,
    commands.StartCompletion: conversations.start_completion,
    commands.SendApiMessage: conversations.send_api_message,
    commands.StartResponse: responses.start_response,
    commands.StoreResponse: responses.store_response,
    commands.DeleteResponse: responses.delete_response,
    commands.CreateMessagingChannel: channels.create_messaging_channel,
    commands.TriggerBotMessage: bot_messages.trigger_bot_message,
    commands.RecordBotMessage: bot_messages.record_bot_message,
    commands.RecordDelivery: bot_messages.record_delivery,
    commands.CreateSubscription: subscriptions.create_subscription,
    commands.DisableSubscription: subscriptions.disable_subscription,
}
