"""Sessions as the team API lists and retrieves them (SPEC §3.3, §3.4), with their chatbots, team and messages."""

from dataclasses import dataclass

from pymongo.database import Database

from query_api.queries.pagination import PageRequest, paginate
from schemas import representations
from schemas.errors import detail
from schemas.ids import canonical_uuid
from schemas.read_models import CHATBOTS, MESSAGES, SESSIONS, TEAMS


@dataclass(frozen=True)
class SessionFilter:
    experiment_id: str | None
    tags: tuple[str, ...]
    versions: tuple[str, ...]


def session_query(team: str, only: SessionFilter) -> dict:
    query: dict = {"team": team}
    if only.experiment_id:
        query["experiment_id"] = only.experiment_id
    if only.tags:
        query["tags"] = {"$in": list(only.tags)}
    if only.versions:
        query["version_tags"] = {"$in": list(only.versions)}
    return query


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
    docs, links = paginate(db[SESSIONS], session_query(team, only), "sessions", ascending, page)
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
