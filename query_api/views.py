"""Read-model queries behind the GET endpoints."""

import uuid

from flask import request
from pymongo.database import Database

from query_api.pagination import paginate
from schemas import representations
from schemas.errors import detail, field_errors
from schemas.read_models import CHATBOTS, FILES, MESSAGES, PARTICIPANTS, SESSIONS, TEAMS


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def comma_separated(name: str) -> list[str]:
    return [part.strip() for part in request.args.get(name, "").split(",") if part.strip()]


def list_experiments(db: Database, team: str, base_url: str) -> dict:
    docs, links = paginate(db[CHATBOTS], {"team": team, "archived": False}, "experiments", ascending=False)
    return {**links, "results": [representations.experiment(doc, base_url) for doc in docs]}


def retrieve_experiment(db: Database, team: str, chatbot_id: str, base_url: str) -> dict:
    if not is_uuid(chatbot_id):
        raise detail(404, "Not found.")
    doc = db[CHATBOTS].find_one({"_id": str(uuid.UUID(chatbot_id)), "team": team, "archived": False})
    if doc is None:
        raise detail(404, "No Experiment matches the given query.")
    return representations.experiment(doc, base_url)


def session_filter(team: str) -> dict:
    query: dict = {"team": team}
    experiment = request.args.get("experiment", "").strip()
    if experiment:
        if not is_uuid(experiment):
            raise field_errors({"experiment": [f'"{experiment}" is not a valid UUID.']})
        query["experiment_id"] = str(uuid.UUID(experiment))
    if tags := comma_separated("tags"):
        query["tags"] = {"$in": tags}
    if versions := comma_separated("versions"):
        query["version_tags"] = {"$in": versions}
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


def list_sessions(db: Database, team: str, base_url: str) -> dict:
    ascending = request.args.get("ordering") == "created_at"
    docs, links = paginate(db[SESSIONS], session_filter(team), "sessions", ascending=ascending)
    chatbots = chatbots_by_id(db, {doc["experiment_id"] for doc in docs})
    team_doc = team_document(db, team)
    return {
        **links,
        "results": [representations.session(doc, chatbots[doc["experiment_id"]], team_doc, base_url) for doc in docs],
    }


def retrieve_session(db: Database, team: str, session_id: str, base_url: str) -> dict:
    # Writes take any spelling of a UUID (upper case, braces, `urn:uuid:`); so do reads.
    session_id = str(uuid.UUID(session_id)) if is_uuid(session_id) else session_id
    doc = db[SESSIONS].find_one({"_id": session_id, "team": team})
    if doc is None:
        raise detail(404, "No ExperimentSession matches the given query.")
    messages = list(db[MESSAGES].find({"session_id": session_id}).sort("seq", 1))
    chatbot = chatbots_by_id(db, {doc["experiment_id"]})[doc["experiment_id"]]
    return representations.session_with_messages(doc, chatbot, team_document(db, team), messages, base_url)


MAX_FILE_ID = 2**63 - 1  # the largest integer MongoDB stores; file ids are below 2**53


def team_file(db: Database, team: str, file_id: int) -> dict:
    doc = db[FILES].find_one({"file_id": file_id, "team": team}) if file_id <= MAX_FILE_ID else None
    if doc is None:
        raise detail(404, "Not found.")
    return doc


def chatbot_filter() -> str | None:
    """`chatbot` (or its deprecated alias `experiment`); its error is a plain string (SPEC §3.8a)."""
    for name in ("chatbot", "experiment"):
        value = request.args.get(name, "").strip()
        if value:
            if not is_uuid(value):
                raise field_errors({name: "Must be a valid UUID."})
            return str(uuid.UUID(value))
    return None


def list_participants(db: Database, team: str) -> dict:
    query: dict = {"team": team}
    for name in ("identifier", "platform"):
        if request.args.get(name):
            query[name] = request.args[name]
    chatbot_id = chatbot_filter()
    if chatbot_id:
        query[f"data.{chatbot_id}"] = {"$exists": True}
    docs, links = paginate(db[PARTICIPANTS], query, "participants", ascending=False)
    chatbots = {doc["_id"]: doc for doc in db[CHATBOTS].find({"team": team, "archived": False})}
    return {**links, "results": [representations.participant_detail(doc, chatbots, chatbot_id) for doc in docs]}
