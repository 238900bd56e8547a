"""Sessions as the team API lists and retrieves them (SPEC §3.3, §3.4), with their chatbots, team and messages."""

from collections.abc import Callable
from dataclasses import dataclass

from pymongo.database import Database

from query_api.queries.list_counts import list_counters
from query_api.queries.pagination import ListEnds, Listing, PageRequest, paginate
from schemas import representations
from schemas.errors import detail
from schemas.ids import canonical_uuid
from schemas.read_models import (
    CHATBOTS,
    LISTED_BY_CHATBOT,
    LISTED_BY_CHATBOT_TAG,
    LISTED_BY_CHATBOT_VERSION,
    LISTED_BY_TAG,
    LISTED_BY_VERSION,
    LISTED_IN_ALL,
    MESSAGES,
    SESSIONS,
    TEAMS,
    list_counter_id,
)

# A filter is read by one of its conditions, one index range per value: a condition of more values is only checked
# on what another one's ranges (or the team's whole range) hold, so no request makes more than this many ranges.
MOST_RANGES = 10


@dataclass(frozen=True)
class SessionFilter:
    experiment_id: str | None
    tags: tuple[str, ...]
    versions: tuple[str, ...]


def session_listing(db: Database, team: str, only: SessionFilter) -> Listing:
    """The team's sessions that pass the filter. Its first condition (tags, versions, chatbot) of at most MOST_RANGES
    values names the index ranges, one per value (none: the team's); the others are checked on what those hold. A
    filter of one value of one condition, or of a chatbot and one tag or version, is counted by its counter; any other
    by reading what it lists (a session may carry two of the tags or versions asked for)."""
    conditions = [
        (field, dimension, values)
        for field, dimension, values in (
            ("tags", LISTED_BY_TAG, only.tags),
            ("version_tags", LISTED_BY_VERSION, only.versions),
            ("experiment_id", LISTED_BY_CHATBOT, (only.experiment_id,) if only.experiment_id else ()),
        )
        if values
    ]
    by_ranges = [condition for condition in conditions if len(condition[2]) <= MOST_RANGES]
    if by_ranges:
        field, dimension, values = by_ranges[0]
        others = [condition for condition in conditions if condition is not by_ranges[0]]
        ranges = tuple({"team": team, field: value} for value in values)
    else:
        dimension, values, others = LISTED_IN_ALL, ("",), conditions
        ranges = ({"team": team},)
    keep = passes(others) if others else None
    in_ranges = [list_counter_id(SESSIONS, team, dimension, value) for value in values]
    whole = whole_filter_counter(team, only)
    counters = list_counters(db, [list_counter_id(SESSIONS, team), *in_ranges, *([whole] if whole else [])])
    team_counter = counters.get(list_counter_id(SESSIONS, team))
    if team_counter is None:  # no session of the team counted: none yet, or none since the counters came (a rebuild)
        return Listing(SESSIONS, ranges, keep)
    count = counters.get(whole, {}).get("count", 0) if whole else None
    if count == 0:  # counted before it is written, so none is there to read
        return Listing(SESSIONS, (), count=0)
    # Windows are sized by what the filter lists when a counter says, else by what its ranges hold.
    listed = count or sum(counters.get(counter, {}).get("count", 0) for counter in in_ranges)
    ends = ListEnds(team_counter["first_key"], team_counter["last_key"], listed)
    return Listing(SESSIONS, ranges, keep, ends, count)


def whole_filter_counter(team: str, only: SessionFilter) -> str | None:
    """The counter that counts every session the filter lists, if one does."""
    tags, versions = only.tags, only.versions
    if len(tags) + len(versions) > 1:
        return None
    if only.experiment_id and tags:
        return list_counter_id(SESSIONS, team, LISTED_BY_CHATBOT_TAG, f"{only.experiment_id}|{tags[0]}")
    if only.experiment_id and versions:
        return list_counter_id(SESSIONS, team, LISTED_BY_CHATBOT_VERSION, f"{only.experiment_id}|{versions[0]}")
    if only.experiment_id:
        return list_counter_id(SESSIONS, team, LISTED_BY_CHATBOT, only.experiment_id)
    if tags:
        return list_counter_id(SESSIONS, team, LISTED_BY_TAG, tags[0])
    if versions:
        return list_counter_id(SESSIONS, team, LISTED_BY_VERSION, versions[0])
    return list_counter_id(SESSIONS, team)


def passes(conditions: list[tuple[str, str, tuple[str, ...]]]) -> Callable[[dict], bool]:
    """Whether a session has one of each condition's values (as `$in` matches a field or any of an array's items)."""

    def check(doc: dict) -> bool:
        return all(set(values) & set(as_list(doc[field])) for field, _, values in conditions)

    return check


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def chatbots_by_id(db: Database, chatbot_ids: set[str]) -> dict[str, dict]:
    """Chatbot documents of sessions. Topics are consumed in parallel, so a session can be projected a
    moment before its chatbot; until then it shows a stub rather than failing."""
    found = {doc["_id"]: doc for doc in db[CHATBOTS].find({"_id": {"$in": list(chatbot_ids)}})}
    return {
        chatbot_id: found.get(chatbot_id) or {"_id": chatbot_id, "name": "", "description": None, "version_number": 1}
        for chatbot_id in chatbot_ids
    }


def team_document(db: Database, team: str) -> dict:
    return db[TEAMS].find_one({"team": team}) or {"team": team, "name": ""}


def list_sessions(
    db: Database, team: str, only: SessionFilter, ascending: bool, page: PageRequest, base_url: str
) -> dict:
    docs, links = paginate(db[SESSIONS], session_listing(db, team, only), ascending, page)
    chatbots = chatbots_by_id(db, {doc["experiment_id"] for doc in docs})
    team_doc = team_document(db, team)
    return {
        **links,
        "results": [representations.session(doc, chatbots[doc["experiment_id"]], team_doc, base_url) for doc in docs],
    }


def retrieve_session(db: Database, team: str, session_id: str, base_url: str) -> dict:
    # Writes take any spelling of a UUID (upper case, braces, `urn:uuid:`); so do reads.
    session_id = canonical_uuid(session_id) or session_id
    doc = db[SESSIONS].find_one({"_id": session_id, "team": team})
    if doc is None:
        raise detail(404, "No ExperimentSession matches the given query.")
    messages = list(db[MESSAGES].find({"session_id": session_id}).sort("seq", 1))
    chatbot = chatbots_by_id(db, {doc["experiment_id"]})[doc["experiment_id"]]
    return representations.session_with_messages(doc, chatbot, team_document(db, team), messages, base_url)
