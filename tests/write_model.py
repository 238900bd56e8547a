"""Recording what tests need on the write model through the command bus, as the admin CLI would."""

from command_api import commands
from command_api.bus import CommandBus
from workers.pipelines.definition import validate_pipeline


def new_bus(app) -> CommandBus:
    """The command bus as the composition root wires it."""
    return CommandBus(app, check_pipeline=validate_pipeline)


def new_chatbot(bus: CommandBus, team: str, **overrides) -> str:
    """A chatbot of the team (offline `echo` unless told otherwise); its id."""
    fields = dict(
        team=team,
        name="Bot",
        description="",
        prompt="p",
        provider="echo",
        model="m",
        base_url=None,
        llm_api_key=None,
    )
    return bus.handle(commands.CreateChatbot(**{**fields, **overrides})).body["id"]


def new_team_with_chatbot(bus: CommandBus, slug: str, **chatbot) -> str:
    """A team named by its slug, and its chatbot's id."""
    bus.handle(commands.CreateTeam(slug=slug, name=slug))
    return new_chatbot(bus, slug, **chatbot)
