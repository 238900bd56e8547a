"""Chatbots, their pipelines and published versions."""

from uuid import uuid4

from command_api import commands
from command_api.domain.chatbot import Chatbot
from command_api.handlers.teams_and_keys import Outcome, require_team
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from schemas.chatbots import PROVIDERS
from schemas.errors import detail

NO_CHATBOT = "No Experiment matches the given query."


def require_chatbot(app: OcsApplication, chatbot_id: str) -> Chatbot:
    chatbot = load(app, chatbot_id, Chatbot)
    if chatbot is None:
        raise detail(404, f"chatbot {chatbot_id!r} does not exist")
    return chatbot


def create_chatbot(command: commands.CreateChatbot, app: OcsApplication, check_pipeline) -> Outcome:
    require_team(app, command.team)
    if not command.name.strip() or len(command.name) > 128:
        raise detail(400, "a chatbot name is 1 to 128 characters")
    if command.provider not in PROVIDERS:
        raise detail(400, f"unknown provider {command.provider!r}: use one of {', '.join(PROVIDERS)}")
    chatbot = Chatbot(
        id=uuid4(),
        team=command.team,
        name=command.name,
        description=command.description,
        llm={
            "prompt": command.prompt,
            "provider": command.provider,
            "model": command.model,
            "base_url": command.base_url,
            "api_key": command.llm_api_key,
            "pipeline": checked_pipeline(command.pipeline, check_pipeline),
        },
    )
    app.save(chatbot)
    return Outcome({"id": str(chatbot.id), "name": chatbot.name, "version_number": chatbot.version_number}, chatbot)


def checked_pipeline(pipeline: dict | None, check_pipeline) -> dict | None:
    """The pipeline as recorded: `check_pipeline(pipeline)` answers it in its graph form, or raises ValueError,
    saying what is wrong, for one no chatbot may carry."""
    if pipeline is None:
        return None
    try:
        return check_pipeline(pipeline)
    except ValueError as exc:
        raise detail(400, f"invalid pipeline: {exc}") from None


def publish_version(command: commands.PublishVersion, app: OcsApplication, check_pipeline) -> Outcome:
    chatbot = require_chatbot(app, command.chatbot_id)
    if command.pipeline is not None:
        chatbot.change_pipeline(checked_pipeline(command.pipeline, check_pipeline))
    version = chatbot.publish_version(str(uuid4()), command.description, command.make_default)
    app.save(chatbot)
    return Outcome(
        {"version_number": version["version_number"], "is_default_version": version["is_default_version"]}, chatbot
    )
