"""The usage read model (`GET /api/v2/usage/`): counters per team, UTC day and dimension, each day's counters kept
per quarter hour inside its document. Two levels of dimension: per chatbot and platform (a handful per team, so a
request that needs no participant reads a few documents per day of its window, however many messages and sessions
there are), and per participant, chatbot and platform (for the participant filter, grouping and distinct count).

Quarter hours: every timezone's offset is a whole number of quarter hours, so a day, week or month in any timezone is
a whole number of them.

Sessions count in the quarter hour they started in, once engaged (once a participant has said something), as OCS
counts them. These are pure functions from events to increments; `projectors/counting.py` applies them once each."""

from collections import defaultdict
from datetime import timezone

from schemas import events
from schemas.instants import parse_instant
from schemas.read_models import USAGE_BY_CHATBOT, USAGE_BY_PARTICIPANT, usage_model_field

HUMAN_ROLE = "user"
AI_ROLE = "assistant"
API_PLATFORM = "api"

COUNTED = (
    events.CHAT_SESSION_MESSAGES_APPENDED,
    events.CHAT_SESSION_USER_MESSAGE_SUBMITTED,
    events.CHAT_SESSION_BOT_MESSAGE_SENT,
    events.CHAT_SESSION_REPLY_RECORDED,
)


def slot_of(instant: str) -> tuple[str, int]:
    """The UTC day an instant falls in, and its quarter hour of that day (0 to 95)."""
    at = parse_instant(instant).astimezone(timezone.utc)
    return at.date().isoformat(), (at.hour * 60 + at.minute) // 15


def message_counts(messages: list[dict]) -> dict[tuple[str, int], dict]:
    """Each quarter hour's human and AI messages among these (system messages count as neither)."""
    counts: dict[tuple[str, int], dict] = defaultdict(lambda: defaultdict(int))
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


def increments(envelope: dict, data: dict) -> dict[tuple[str, int], dict]:
    """What one counted event adds to the messages and tokens, by (UTC day, quarter hour)."""
    match envelope["type"]:
        case events.CHAT_SESSION_MESSAGES_APPENDED:
            return message_counts(data["messages"])
        case events.CHAT_SESSION_USER_MESSAGE_SUBMITTED:
            return message_counts([data["message"]])
        case events.CHAT_SESSION_REPLY_RECORDED | events.CHAT_SESSION_BOT_MESSAGE_SENT:
            slot = slot_of(data["message"]["created_at"])
            return {slot: {"ai": 1, **token_counts(data["usage"], data["model"])}}
    return {}


def counter_keys(team: str, day: str, session: dict) -> dict[str, dict]:
    """The counter documents an increment of a session's goes to, by id, with the fields that place each."""
    chatbot, participant = session["experiment_id"], session["participant_id"]
    # Sessions of the team's API channel name no platform; their participants are `api`'s.
    platform = session["platform"] or API_PLATFORM
    place = {"team": team, "day": day, "chatbot": chatbot, "platform": platform}
    return {
        f"{team}|{day}|{chatbot}|{platform}": {**place, "level": USAGE_BY_CHATBOT},
        f"{team}|{day}|{chatbot}|{platform}|{participant}": {
            **place,
            "level": USAGE_BY_PARTICIPANT,
            "participant": participant,
        },
    }


def engages(counts: dict[tuple[str, int], dict]) -> bool:
    """A session counts once a participant has said something in it (OCS leaves never-engaged sessions out)."""
    return any(slot.get("human") for slot in counts.values())


class Counters:
    """Increments of a batch of events, added up per counter document, for one write each."""

    def __init__(self):
        self.placed: dict[str, dict] = {}
        self.added: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def count(self, envelope: dict, data: dict, session: dict, engaged_before: bool) -> bool:
        """Add what one event of `session` (its read-model document) adds; whether the session is engaged after it.
        The event that engages a session counts the session, in the quarter hour it was created in."""
        counts = increments(envelope, data)
        self.add(envelope["team"], counts, session)
        if engaged_before or not engages(counts):
            return engaged_before
        self.add(envelope["team"], {slot_of(session["created_at"]): {"sessions": 1}}, session)
        return True

    def add(self, team: str, counts: dict[tuple[str, int], dict], session: dict) -> None:
        for (day, quarter), slot_counts in counts.items():
            for doc_id, place in counter_keys(team, day, session).items():
                self.placed[doc_id] = place
                for name, n in slot_counts.items():
                    self.added[doc_id][f"q.{quarter}.{name}"] += n
