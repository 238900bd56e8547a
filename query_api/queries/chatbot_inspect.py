"""A chatbot version's whole configuration in one document (`GET /api/v2/chatbots/{id}/inspect/`): the working
version's when no version is asked for, the default version's for `default` (the working version's while none is
published, as that is what answers), or a published version's by number."""

from pymongo.database import Database

from query_api.queries.experiments import team_chatbot
from schemas import representations
from schemas.errors import detail
from schemas.read_models import CHATBOT_VERSIONS, MESSAGING_CHANNELS, WIDGET_CHANNELS, chatbot_version_id

# Version numbers are small; longer digit strings are no version here (and no int() of a megabyte of digits).
MAX_VERSION_DIGITS = 9


def inspect_chatbot(db: Database, team: str, chatbot_id: str, version: str | None) -> dict:
    chatbot = team_chatbot(db, team, chatbot_id)
    number = version_asked(chatbot, version)
    if number == chatbot["version_number"]:
        configuration, description = chatbot.get("llm"), ""
    else:
        snapshot = db[CHATBOT_VERSIONS].find_one({"_id": chatbot_version_id(chatbot["_id"], number)}) or {}
        configuration = snapshot.get("llm")
        description = next(v["version_description"] for v in chatbot["versions"] if v["version_number"] == number)
    if configuration is None:
        # Read models built before versions' configurations were kept have none until they are rebuilt.
        raise detail(
            503, "This chatbot's configuration is not in the read model yet: run `ocs admin rebuild-read-models`."
        )
    widgets = list(db[WIDGET_CHANNELS].find({"chatbot_id": chatbot["_id"]}))
    messaging = list(db[MESSAGING_CHANNELS].find({"chatbot_id": chatbot["_id"]}))
    return representations.chatbot_inspect(chatbot, number, description, configuration, widgets + messaging)


def version_asked(chatbot: dict, version: str | None) -> int:
    """The number of the version `version` names; 404 for a version the chatbot does not have."""
    if version is None:
        return chatbot["version_number"]
    if version == "default":
        return chatbot.get("default_version_number") or chatbot["version_number"]
    published = {v["version_number"] for v in chatbot["versions"] if not v.get("archived")}
    if version.isascii() and version.isdigit() and len(version) <= MAX_VERSION_DIGITS:
        number = int(version)
        if number in published or number == chatbot["version_number"]:
            return number
    raise detail(404, f"Experiment with version {version} not found")
