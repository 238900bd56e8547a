"""Chatbots ("experiments" on the wire) as the team API lists and retrieves them (SPEC §3.1, §3.2)."""

from pymongo.database import Database

from query_api.queries.pagination import PageRequest, paginate
from schemas import representations
from schemas.errors import detail
from schemas.ids import canonical_uuid
from schemas.read_models import CHATBOTS


def list_experiments(db: Database, team: str, page: PageRequest, base_url: str) -> dict:
    docs, links = paginate(db[CHATBOTS], {"team": team, "archived": False}, "experiments", False, page)
    return {**links, "results": [representations.experiment(doc, base_url) for doc in docs]}


def retrieve_experiment(db: Database, team: str, chatbot_id: str, base_url: str) -> dict:
    chatbot_id = canonical_uuid(chatbot_id)
    if chatbot_id is None:
        raise detail(404, "Not found.")
    doc = db[CHATBOTS].find_one({"_id": chatbot_id, "team": team, "archived": False})
    if doc is None:
        raise detail(404, "No Experiment matches the given query.")
    return representations.experiment(doc, base_url)
