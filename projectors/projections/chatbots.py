"""Chatbots with their versions, and their widget and messaging channels."""

from projectors.projections.writes import Write, change, create, sort_key
from schemas.read_models import (
    CHATBOT_VERSIONS,
    CHATBOTS,
    MESSAGING_CHANNELS,
    WIDGET_CHANNELS,
    chatbot_version_id,
    stored_json,
)


def configuration(llm: dict) -> dict:
    """What `inspect` shows of how a version answers: its prompt, provider and model, and its pipeline as recorded
    (JSON text: client JSON), in whichever form it was recorded in (`schemas/pipeline_graph.py` reads both)."""
    pipeline = llm.get("pipeline")
    return {
        "prompt": llm["prompt"],
        "provider": llm["provider"],
        "model": llm["model"],
        "pipeline": None if pipeline is None else stored_json(pipeline),
    }


def chatbot_created(envelope: dict, data: dict) -> list[Write]:
    created_at = envelope["occurred_at"]
    return [
        create(
            CHATBOTS,
            envelope,
            {
                "name": data["name"],
                "description": data["description"],
                "created_at": created_at,
                "sort_key": sort_key(created_at, envelope["aggregate_id"]),
                "version_number": 1,
                "versions": [],
                "default_version_number": None,
                "archived": False,
                "llm": configuration(data["llm"]),
            },
        )
    ]


def chatbot_pipeline_changed(envelope: dict, data: dict) -> list[Write]:
    pipeline = None if data["pipeline"] is None else stored_json(data["pipeline"])
    return [change(CHATBOTS, envelope, {"$set": {"llm.pipeline": pipeline}})]


def chatbot_version_published(envelope: dict, data: dict) -> list[Write]:
    version = {
        "version_id": data["version_id"],
        "name": data["name"],
        "version_number": data["version_number"],
        "version_description": data["version_description"],
        "archived": False,
    }
    update = {"$push": {"versions": version}, "$set": {"version_number": data["version_number"] + 1}}
    if data["is_default_version"]:
        # One scalar names the default, so moving it never rewrites the other versions.
        update["$set"]["default_version_number"] = data["version_number"]
    chatbot_id = envelope["aggregate_id"]
    snapshot = {"chatbot_id": chatbot_id, "version_number": data["version_number"], "llm": configuration(data["llm"])}
    return [
        create(CHATBOT_VERSIONS, envelope, snapshot, doc_id=chatbot_version_id(chatbot_id, data["version_number"])),
        change(CHATBOTS, envelope, update),
    ]


def widget_channel_created(envelope: dict, data: dict) -> list[Write]:
    return [
        create(
            WIDGET_CHANNELS,
            envelope,
            {
                "chatbot_id": data["chatbot_id"],
                "allowed_domains": data["allowed_domains"],
                "auth_level": data["auth_level"],
                "credential_mode": data["credential_mode"],
                "enabled": True,
                "disabled_message": "",
            },
        )
    ]


def widget_channel_disabled(envelope: dict, data: dict) -> list[Write]:
    return [
        change(WIDGET_CHANNELS, envelope, {"$set": {"enabled": False, "disabled_message": data["disabled_message"]}})
    ]


def widget_channel_enabled(envelope: dict, data: dict) -> list[Write]:
    return [change(WIDGET_CHANNELS, envelope, {"$set": {"enabled": True}})]


def messaging_channel_created(envelope: dict, data: dict) -> list[Write]:
    return [
        create(
            MESSAGING_CHANNELS,
            envelope,
            {
                "chatbot_id": data["chatbot_id"],
                "platform": data["platform"],
                "webhook_url": data["webhook_url"],
                # Where its webhook's deliveries start in the team's feed (`workers.subscriptions`).
                "position": envelope["position"],
            },
        )
    ]
