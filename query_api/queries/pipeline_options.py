"""The values a pipeline node's params take, for the team (`GET /api/v2/pipeline/options/`): the providers a node may
call, the models its chatbots answer with and its price table names, and the variables prompts and templates read.
What this server does not have (voices, source material, collections, tools, custom actions) is an empty list."""

from pymongo.database import Database

from schemas.ids import model_number
from schemas.pipeline_nodes import (
    PROVIDER_IDS,
    PROVIDER_LABELS,
    VARIABLE_LISTS,
    VARIABLES,
    node_type_named,
    option_keys,
)
from schemas.read_models import CHATBOTS, TEAMS

# The provider that serves every model a team names: its chatbots' base URL is OpenAI-compatible.
MODELS_PROVIDER = "openai"


def options_for_team(db: Database, team: str) -> dict:
    return {
        "llm_provider_id": [
            {"value": number, "label": PROVIDER_LABELS[provider], "type": provider}
            for number, provider in PROVIDER_IDS.items()
        ],
        "llm_provider_model_id": [
            {"value": model_number(model), "label": model, "type": MODELS_PROVIDER} for model in team_models(db, team)
        ],
        "synthetic_voice_id": [],
        "source_material": [],
        "collection": [],
        "collection_index": [],
        "tools": [],
        "custom_actions": [],
        "built_in_tools": {},
        "tool_config": {},
        **{name: list(VARIABLES) for name in VARIABLE_LISTS},
        # Null: a node that names no LLM calls its chatbot's provider and model.
        "default_llm_provider": {"llm_provider_id": None, "llm_provider_model_id": None},
    }


def node_type_options(db: Database, team: str, node_type: str) -> dict:
    keys = option_keys(node_type_named(node_type))
    if not keys:
        return {}
    everything = options_for_team(db, team)
    return {key: everything[key] for key in keys}


def team_models(db: Database, team: str) -> list[str]:
    """The models the team's chatbots answer with through an OpenAI-compatible provider, and those its price table
    names, by name."""
    chatbots = db[CHATBOTS].find({"team": team, "archived": False, "llm.provider": MODELS_PROVIDER}, {"llm.model": 1})
    priced = (db[TEAMS].find_one({"team": team}, {"model_prices": 1}) or {}).get("model_prices", [])
    return sorted({doc["llm"]["model"] for doc in chatbots} | {entry["model"] for entry in priced})
