"""The usage read model (`GET /api/v2/usage/`): counters per session and quarter hour, each document carrying its
session's team, chatbot, participant and platform, so a request reads one document per session active in each
quarter hour of its window, however many messages those sessions hold.

Quarter hours, in UTC: every timezone's offset is a whole number of quarter hours, so a day, week or month in any
timezone is a whole number of them.

Idempotency: each document remembers the last version of its session it counted. An event's increment applies to
a document at a lower version, or inserts it; a redelivered event finds its document at its own version or later,
and the insert it falls back to fails on the document's id, which the runner skips as for any replayed insert.
Events of one session arrive in order, so a document below an event's version has not counted it."""

from collections import defaultdict
from datetime import timedelta

from pymongo import UpdateOne

from schemas import events
from schemas.instants import parse_instant, utc_iso
from schemas.read_models import usage_model_field

SLOT = timedelta(minutes=15)
HUMAN_ROLE = "user"
AI_ROLE = "assistant"
API_PLATFORM = "api"


def slot_of(instant: str) -> str:
    """The quarter hour (UTC) an instant falls in, as its start's text."""
    at = parse_instant(instant)
    return utc_iso(at - (at - at.replace(minute=0, second=0, microsecond=0)) % SLOT)


def message_counts(messages: list[dict]) -> dict[str, dict]:
    """Each quarter hour's human and AI messages among these (system messages count as neither)."""
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for message in messages:
        kind = {HUMAN_ROLE: "human", AI_ROLE: "ai"}.get(message["role"])
        if kind:
            counts[slot_of(message["created_at"])][kind] += 1
    return counts


def token_counts(usage: dict | None, model: str | None) -> dict:
    """Tokens as the provider reported them, and per model too when the model is known: cost is priced by model
    when asked for (`query_api/queries/usage.py`), so a changed price prices past usage too."""
    if not usage:
        return {}
    counts = {
        "prompt": usage["prompt_tokens"],
        "completion": usage["completion_tokens"],
        "total": usage["total_tokens"],
    }
    if model:
        key = usage_model_field(model)
        counts |= {
            f"models.{key}.prompt": usage["prompt_tokens"],
            f"models.{key}.completion": usage["completion_tokens"],
        }
    return counts


def increments(envelope: dict, data: dict) -> dict[str, dict]:
    """What one event adds to the counters, by quarter hour."""
    match envelope["type"]:
        case events.CHAT_SESSION_CREATED:
            return {slot_of(envelope["occurred_at"]): {"sessions": 1}}
        case events.CHAT_SESSION_MESSAGES_APPENDED:
            return message_counts(data["messages"])
        case events.CHAT_SESSION_USER_MESSAGE_SUBMITTED | events.CHAT_SESSION_BOT_MESSAGE_SENT:
            return message_counts([data["message"]])
        case events.CHAT_SESSION_REPLY_RECORDED:
            slot = slot_of(data["message"]["created_at"])
            return {slot: {"ai": 1, **token_counts(data["usage"], data["model"])}}
    return {}


COUNTED = (
    events.CHAT_SESSION_CREATED,
    events.CHAT_SESSION_MESSAGES_APPENDED,
    events.CHAT_SESSION_USER_MESSAGE_SUBMITTED,
    events.CHAT_SESSION_BOT_MESSAGE_SENT,
    events.CHAT_SESSION_REPLY_RECORDED,
)


def usage_writes(envelope: dict, data: dict, session: dict) -> list[UpdateOne]:
    """The counters' increments, at most once each; `session` is its read-model document (who the usage is of)."""
    session_id = envelope["aggregate_id"]
    version = envelope["aggregate_version"]
    return [
        UpdateOne(
            {"_id": f"{session_id}|{slot}", "version": {"$lt": version}},
            {
                "$inc": dict(counts),
                "$set": {"version": version},
                "$setOnInsert": {
                    "team": envelope["team"],
                    "slot": slot,
                    "session_id": session_id,
                    "chatbot": session["experiment_id"],
                    "participant": session["participant_id"],
                    # Sessions of the team's API channel name no platform; their participants are `api`'s.
                    "platform": session["platform"] or API_PLATFORM,
                },
            },
            upsert=True,
        )
        for slot, counts in sorted(increments(envelope, data).items())
        if counts
    ]
