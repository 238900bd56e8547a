"""The command bus: runs each command's one handler, retrying when another writer got there first."""

from eventsourcing.persistence import IntegrityError

from command_api.handlers import HANDLERS
from command_api.write_model.application import OcsApplication

# Each retry reloads the aggregates, so a conflict costs one more read and decision; a handful of
# attempts covers any realistic burst of writers on one aggregate.
MAX_ATTEMPTS = 8


class CommandBus:
    def __init__(self, app: OcsApplication):
        self.app = app

    def handle(self, command):
        handler = HANDLERS[type(command)]
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return handler(command, self.app)
            except IntegrityError:
                if attempt == MAX_ATTEMPTS:
                    raise
