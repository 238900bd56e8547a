"""Read-your-writes on the projector's rings (command_api/read_your_writes.py): the projector names the aggregates
it applied on the API processes' doorbells, and a waiting command checks MongoDB when its aggregate is named. Here
the waiter's own checks are pushed a minute out, so a wait that ends with one read was ended by the ring."""

from command_api import commands, read_your_writes
from schemas.read_models import SESSIONS
from tests.stack import eventually
from tests.write_model import new_team_with_chatbot


class CountedReads:
    """The real database, counting the reads the waiter makes."""

    def __init__(self, db):
        self.db = db
        self.finds = 0

    def __getitem__(self, name):
        collection = self.db[name]
        counted = self

        class Counted:
            def find(self, *args, **options):
                counted.finds += 1
                return collection.find(*args, **options)

        return Counted()


def test_a_wait_is_ended_by_the_projectors_ring_with_one_read(servers, background, monkeypatch):
    system = servers.system
    waiter = system.waiter
    for component in (system.relay(), system.projector()):
        background.run(component)
    chatbot_id = new_team_with_chatbot(system.bus, "rung")
    assert eventually(waiter.news.hearing)  # the projector has rung since the team was created
    monkeypatch.setattr(read_your_writes, "UNNAMED_AT_LEAST_S", 60.0)
    monkeypatch.setattr(waiter, "timeout_s", 120)
    monkeypatch.setattr(waiter, "typical_delay_s", 0.0)
    reads = CountedReads(system.db)
    monkeypatch.setattr(waiter, "db", reads)
    created = system.bus.handle(
        commands.CreateSession(team="rung", caller="admin", experiment=chatbot_id, participant="p")
    )
    assert waiter.wait(SESSIONS, str(created.session.id), created.session.version)
    assert reads.finds == 1
