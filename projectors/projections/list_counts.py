"""The lists' counts (`count` on a list's first page): how many sessions a team has in all, per chatbot, per tag, per
version tag, and per chatbot and tag or version tag, and how many participants, kept as counters so that no request
counts documents. The team's counters also keep the lowest and highest ordering key of its list, which tell the query
API where the list ends (`query_api/queries/pagination.py`).

A session's counters follow what it is listed under (`listed`: its chatbot, tags and version tags), which each of its
events moves as the sessions read model moves them (`projections/sessions.py`); these are pure functions from events
to increments, and `projectors/counting.py` applies them once each."""

from collections import defaultdict

from projectors.projections.sessions import is_version_tag
from projectors.projections.writes import sort_key
from schemas import events
from schemas.read_models import (
    LISTED_BY_CHATBOT,
    LISTED_BY_CHATBOT_TAG,
    LISTED_BY_CHATBOT_VERSION,
    LISTED_BY_TAG,
    LISTED_BY_VERSION,
    LISTED_IN_ALL,
    PARTICIPANTS,
    SESSIONS,
    list_counter_id,
)

MESSAGE_EVENTS = (
    events.CHAT_SESSION_MESSAGES_APPENDED,
    events.CHAT_SESSION_USER_MESSAGE_SUBMITTED,
    events.CHAT_SESSION_REPLY_RECORDED,
    events.CHAT_SESSION_BOT_MESSAGE_SENT,
)
# The events that can move what a session is listed under; the others leave it as it is.
LISTING_EVENTS = (
    events.CHAT_SESSION_CREATED,
    events.CHAT_SESSION_TAGGED,
    events.CHAT_SESSION_UNTAGGED,
    *MESSAGE_EVENTS,
)


def listed_after(listed: dict | None, envelope: dict, data: dict) -> dict | None:
    """What a session is listed under after one of its events (None: not created yet)."""
    kind = envelope["type"]
    if kind == events.CHAT_SESSION_CREATED:
        return {"chatbot": data["chatbot_id"], "tags": [], "versions": []}
    if listed is None:
        return None
    if kind == events.CHAT_SESSION_TAGGED:
        return {**listed, "tags": sorted({*listed["tags"], *data["tags"]})}
    if kind == events.CHAT_SESSION_UNTAGGED:
        return {**listed, "tags": sorted(set(listed["tags"]) - set(data["tags"]))}
    if kind in MESSAGE_EVENTS:
        messages = data["messages"] if "messages" in data else [data["message"]]
        versions = {tag for message in messages for tag in message["tags"] if is_version_tag(tag)}
        return {**listed, "versions": sorted({*listed["versions"], *versions})}
    return listed


def session_counters(listed: dict | None) -> set[tuple[str, str]]:
    """The (dimension, value) counters a session listed so counts in."""
    if listed is None:
        return set()
    return {
        (LISTED_IN_ALL, ""),
        (LISTED_BY_CHATBOT, listed["chatbot"]),
        *((LISTED_BY_TAG, tag) for tag in listed["tags"]),
        *((LISTED_BY_VERSION, version) for version in listed["versions"]),
        *((LISTED_BY_CHATBOT_TAG, f"{listed['chatbot']}|{tag}") for tag in listed["tags"]),
        *((LISTED_BY_CHATBOT_VERSION, f"{listed['chatbot']}|{version}") for version in listed["versions"]),
    }


class ListCounts:
    """Increments of a batch's events, added up per counter document, for one write each."""

    def __init__(self):
        self.added: dict[str, int] = defaultdict(int)
        self.placed: dict[str, dict] = {}
        self.ends: dict[str, dict] = {}  # a team's counter: the lowest and highest ordering key of its list

    def session_moved(self, envelope: dict, before: dict | None, after: dict | None) -> None:
        team = envelope["team"]
        was, now = session_counters(before), session_counters(after)
        for dimension, value in now - was:
            self.add(SESSIONS, team, dimension, value, 1)
        for dimension, value in was - now:
            self.add(SESSIONS, team, dimension, value, -1)
        if before is None and after is not None:
            self.extend(SESSIONS, envelope)

    def participant_created(self, envelope: dict) -> None:
        self.add(PARTICIPANTS, envelope["team"], LISTED_IN_ALL, "", 1)
        self.extend(PARTICIPANTS, envelope)

    def add(self, listing: str, team: str, dimension: str, value: str, n: int) -> None:
        doc_id = list_counter_id(listing, team, dimension, value)
        self.placed[doc_id] = {"listing": listing, "team": team, "dimension": dimension, "value": value}
        self.added[doc_id] += n

    def extend(self, listing: str, envelope: dict) -> None:
        """The list's ends move to take in a new document's ordering key (as its projection computes it)."""
        key = sort_key(envelope["occurred_at"], envelope["aggregate_id"])
        ends = self.ends.setdefault(list_counter_id(listing, envelope["team"]), {"first_key": key, "last_key": key})
        ends["first_key"], ends["last_key"] = min(ends["first_key"], key), max(ends["last_key"], key)

    def writes(self) -> list[tuple[str, dict]]:
        """(counter id, update) for each counter this batch moves."""
        updates = []
        for doc_id, placed in self.placed.items():
            update: dict = {"$inc": {"count": self.added[doc_id]}, "$setOnInsert": placed}
            if doc_id in self.ends:
                update["$min"] = {"first_key": self.ends[doc_id]["first_key"]}
                update["$max"] = {"last_key": self.ends[doc_id]["last_key"]}
            updates.append((doc_id, update))
        return updates
