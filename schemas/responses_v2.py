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


# The usage report (`GET /api/v2/usage/`): each block is present when its metric is asked for.
class MessageCounts(Representation):
    human = fields.Integer(required=True, metadata={"description": "messages participants sent"})
    ai = fields.Integer(required=True, metadata={"description": "messages the bot sent"})
    total = fields.Integer(required=True, metadata={"description": "human and AI messages"})


class Cost(Representation):
    total = fields.String(
        required=True, metadata={"format": "decimal", "description": "the tokens' price, with 8 decimals"}
    )
    currency = fields.String(required=True, metadata={"description": "the team's price table's (default USD)"})


class Tokens(Representation):
    prompt = fields.Integer(required=True, metadata={"description": "prompt tokens, as the providers reported them"})
    completion = fields.Integer(required=True, metadata={"description": "completion tokens, as reported"})
    total = fields.Integer(required=True, metadata={"description": "all tokens, as reported"})


class UsageResults(Representation):
    messages = fields.Nested(MessageCounts)
    sessions = fields.Integer(metadata={"description": "sessions started in the window"})
    participants = fields.Integer(metadata={"description": "distinct participants with a message in the window"})
    cost = fields.Nested(Cost)
    tokens = fields.Nested(Tokens)


class UsageBucketResult(UsageResults):
    bucket_start = fields.String(
        required=True, metadata={"format": "date-time", "description": "the bucket's start, in the request's `tz`"}
    )


class UsagePeriod(Representation):
    start = fields.String(required=True, metadata={"format": "date-time", "description": "inclusive"})
    end = fields.String(required=True, metadata={"format": "date-time", "description": "exclusive"})
    timezone = fields.String(required=True, metadata={"description": "the request's `tz`"})


class UsageResponse(Representation):
    """`granularity=total`, not grouped: one object of blocks."""

    period = fields.Nested(UsagePeriod, required=True)
    granularity = fields.String(required=True)
    group_by = fields.String(required=True, allow_none=True, metadata={"description": "always null here"})
    results = fields.Nested(UsageResults, required=True)


class UsageTimeseriesResponse(UsageResponse):
    """A finer `granularity`, not grouped: every bucket of the window, empty ones zero-filled."""

    results = fields.List(fields.Nested(UsageBucketResult), required=True)


class ParticipantIdentity(Representation):
    public_id = fields.String(required=True, metadata={"format": "uuid"})
    identifier = fields.String(required=True)
    platform = fields.String(required=True)


class ChatbotIdentity(Representation):
    public_id = fields.String(required=True, metadata={"format": "uuid"})
    name = fields.String(required=True)


class GroupedUsageRow(UsageResults):
    """Exactly one of `participant`, `chatbot` and `platform`, as `group_by` says; `bucket_start` with a finer
    `granularity`."""

    participant = fields.Nested(ParticipantIdentity)
    chatbot = fields.Nested(ChatbotIdentity)
    platform = fields.String(metadata={"description": "the channel platform's slug"})
    bucket_start = fields.String(metadata={"format": "date-time", "description": "the bucket's start, in `tz`"})


class GroupedUsageResponse(Page):
    """With `group_by`: rows per group (and bucket), in cursor pages; `count` is of groups."""

    period = fields.Nested(UsagePeriod, required=True)
    group_by = fields.String(required=True)
    results = fields.List(fields.Nested(GroupedUsageRow), required=True)
