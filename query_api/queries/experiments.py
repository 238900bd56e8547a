"""Chatbots, as the team API lists and retrieves them: v1's "experiments" (SPEC §3.1, §3.2) and v2's "chatbots" are
the same documents, each rendered in its version's shape by `render`."""

from collections.abc import Callable

from pymongo.database import Database

from query_api.queries.pagination import Listing, PageRequest, paginate
from schemas.errors import detail
from schemas.ids import canonical_uuid
from schemas.read_models import CHATBOTS

Render = Callable[[dict, str], dict]  # (chatbot document, base URL) -> its representation


def list_experiments(db: Database, team: str, page: PageRequest, base_url: str, render: Render) -> dict:
    # A team's chatbots are a few: one unbounded range, counted by reading it.
    chatbots = Listing("experiments", ({"team": team, "archived": False},))
    docs, links = paginate(db[CHATBOTS], chatbots, False, page)
    return {**links, "results": [render(doc, base_url) for doc in docs]}


def retrieve_experiment(db: Database, team: str, chatbot_id: str, base_url: str, render: Render) -> dict:
    return render(team_chatbot(db, team, chatbot_id), base_url)


def team_chatbot(db: Database, team: str, chatbot_id: str) -> dict:
    """The team's chatbot document, not archived; a 404 for anything else (another team's is not there)."""
    chatbot_id = canonical_uuid(chatbot_id)
    if chatbot_id is None:
        raise detail(404, "Not found.")
    doc = db[CHATBOTS].find_one({"_id": chatbot_id, "team": team, "archived": False})
    if doc is None:
        raise detail(404, "No Experiment matches the given query.")
    return doc
