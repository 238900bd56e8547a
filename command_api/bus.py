"""The command bus: runs each command's one handler, retrying when another writer got there first.

What a handler needs beyond its command and the write model it names as a parameter of its own (a
`check_pipeline`, say), and the bus hands it what the composition root gave for that name, as
cosmicpython's bootstrap does: the write side then needs no import of the room that provides it.
"""

import inspect
from functools import partial

from eventsourcing.persistence import IntegrityError

from command_api.handlers import HANDLERS
from command_api.write_model.application import OcsApplication

# Each retry reloads the aggregates, so a conflict costs one more read and decision; a handful of
# attempts covers any realistic burst of writers on one aggregate.
MAX_ATTEMPTS = 8


class CommandBus:
    def __init__(self, app: OcsApplication, **dependencies):
        self.app = app
        self.dependencies = dependencies
        self.bound: dict = {}  # handler -> the handler with its dependencies

    def handle(self, command):
        plain = HANDLERS[type(command)]
        handler = self.bound.get(plain) or self.bound.setdefault(plain, injected(plain, self.dependencies))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return handler(command, self.app)
            except IntegrityError:
                if attempt == MAX_ATTEMPTS:
                    raise


def injected(handler, dependencies: dict):
    """The handler with the dependencies it names (its parameters after the command and the write model) bound."""
    wanted = list(inspect.signature(handler).parameters)[2:]
    return partial(handler, **{name: dependencies[name] for name in wanted if name in dependencies})
