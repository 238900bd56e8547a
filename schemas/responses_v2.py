"""API v2's response bodies as marshmallow schemas, for v2's OpenAPI document (`schemas/openapi/v2_operations.py`),
named as OCS's v2 document names them. What v2 shares with v1 (the team, the error bodies) is v1's
(`schemas/responses.py`); nothing renders with these (`schemas/representations.py` does)."""

from marshmallow import fields

from schemas import responses
from schemas.responses import Experiment, ExperimentVersion, Page, Representation, Team


class ChatbotVersion(ExperimentVersion):
    """v1's experiment version, under v2's name."""


class Chatbot(Experiment):
    """v1's experiment, under v2's name and at its v2 URL."""

    versions = fields.List(
        fields.Nested(ChatbotVersion),
        required=True,
        metadata={"description": "published versions, not archived, by `version_number`"},
    )


class PaginatedChatbotList(Page):
    results = fields.List(fields.Nested(Chatbot), required=True)


class Me(Representation):
    id = fields.Integer(
        required=True,
        metadata={"description": "the same number for the same user of the team on every call (derived from both)"},
    )
    username = fields.String(required=True, metadata={"description": "the identity the credential acts as"})
    email = fields.String(required=True, metadata={"description": "the identity, when it is an email address"})
    first_name = fields.String(required=True, metadata={"description": "always blank: no user names are kept here"})
    last_name = fields.String(required=True, metadata={"description": "always blank: no user names are kept here"})
    email_verified = fields.Boolean(required=True, metadata={"description": "always false: nothing verifies it"})
    team = fields.Nested(Team, required=True)


class TriggerBotChannel(Representation):
    platform = fields.String(required=True, metadata={"description": "the session's platform, e.g. `whatsapp`"})
    data = fields.Dict(
        required=True, metadata={"description": "platform-specific channel data: none for this server's channels"}
    )


class TriggerBotMessageResponse(responses.TriggerBotMessageResponse):
    """v1's answer, with the channel's platform nested beside its platform data."""

    channel = fields.Nested(TriggerBotChannel, required=True)
