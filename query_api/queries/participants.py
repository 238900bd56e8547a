"""Participants as the team API lists them (SPEC §3.8a), with their data for each of the team's chatbots."""

from dataclasses import dataclass

from pymongo.database import Database

from query_api.queries.pagination import PageRequest, paginate
from schemas import representations
from schemas.read_models import CHATBOTS, PARTICIPANTS


@dataclass(frozen=True)
class ParticipantFilter:
    identifier: str | None
    platform: str | None
    chatbot_id: str | None  # also limits each participant's data to that chatbot's


def list_participants(db: Database, team: str, only: ParticipantFilter, page: PageRequest) -> dict:
    query: dict = {"team": team}
    if only.identifier:
        query["identifier"] = only.identifier
    if only.platform:
        query["platform"] = only.platform
    if only.chatbot_id:
        query[f"data.{only.chatbot_id}"] = {"$exists": True}
    docs, links = paginate(db[PARTICIPANTS], query, "participants", False, page)
    chatbots = {doc["_id"]: doc for doc in db[CHATBOTS].find({"team": team, "archived": False})}
    return {**links, "results": [representations.participant_detail(doc, chatbots, only.chatbot_id) for doc in docs]}
