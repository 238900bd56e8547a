"""Participants as the team API lists them (SPEC §3.8a), with their data for each of the team's chatbots."""

from collections.abc import Callable
from dataclasses import dataclass

from pymongo.database import Database

from query_api.queries.list_counts import list_counters
from query_api.queries.pagination import ListEnds, Listing, PageRequest, paginate
from schemas import representations
from schemas.read_models import CHATBOTS, PARTICIPANTS, list_counter_id


@dataclass(frozen=True)
class ParticipantFilter:
    identifier: str | None
    platform: str | None
    chatbot_id: str | None  # also limits each participant's data to that chatbot's


def participant_listing(db: Database, team: str, only: ParticipantFilter) -> Listing:
    """The team's participants that pass the filter: an identifier names the index range, and the platform and
    chatbot are checked on what it holds. Only the whole list has a counter; a filtered one is counted by reading it
    (one identifier's participants are a few; a platform's or a chatbot's are every participant of the team read)."""
    ranges = ({"team": team, "identifier": only.identifier} if only.identifier else {"team": team},)
    keep = passes(only) if only.platform or only.chatbot_id else None
    counter_id = list_counter_id(PARTICIPANTS, team)
    team_counter = list_counters(db, [counter_id]).get(counter_id)
    if team_counter is None:  # no participant of the team counted: none yet, or none since the counters came
        return Listing(PARTICIPANTS, ranges, keep)
    # An identifier's participants are few: one window over the whole list reads them.
    listed = 1 if only.identifier else team_counter["count"]
    ends = ListEnds(team_counter["first_key"], team_counter["last_key"], listed)
    filtered = only.identifier or keep
    return Listing(PARTICIPANTS, ranges, keep, ends, None if filtered else team_counter["count"])


def passes(only: ParticipantFilter) -> Callable[[dict], bool]:
    def check(doc: dict) -> bool:
        on_platform = not only.platform or doc["platform"] == only.platform
        return on_platform and (not only.chatbot_id or only.chatbot_id in doc["data"])

    return check


def list_participants(db: Database, team: str, only: ParticipantFilter, page: PageRequest) -> dict:
    docs, links = paginate(db[PARTICIPANTS], participant_listing(db, team, only), False, page)
    chatbots = {doc["_id"]: doc for doc in db[CHATBOTS].find({"team": team, "archived": False})}
    return {**links, "results": [representations.participant_detail(doc, chatbots, only.chatbot_id) for doc in docs]}
