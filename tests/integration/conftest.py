import threading

import pytest

from command_api import commands
from infra.wiring.local_servers import LocalKafka
from tests import postgres
from tests.stack import Stack
from tests.write_model import new_team_with_chatbot


@pytest.fixture
def kafka(tmp_path):
    """A local Kafka-protocol broker of its own; its bootstrap address."""
    server = LocalKafka(tmp_path / "kafka").start()
    yield server.bootstrap
    server.stop()


@pytest.fixture(scope="session")
def postgres_cluster():
    """One throwaway PostgreSQL cluster for the run, started only when a test needs it."""
    reason = postgres.unavailable_reason()
    if reason:
        pytest.skip(f"event store on PostgreSQL: {reason}")
    cluster = postgres.PostgresCluster().start()
    yield cluster
    cluster.stop()


# Every integration test that uses these servers runs on both event stores: SQLite (the embedded default)
# and PostgreSQL (production).
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def servers(request, tmp_path_factory):
    """Fresh local Kafka-protocol and MongoDB-protocol servers and event store, with nothing running on them."""
    event_store_url = None
    if request.param == "postgresql":
        event_store_url = request.getfixturevalue("postgres_cluster").create_database()
    stack = Stack(tmp_path_factory.mktemp("servers"), event_store_url=event_store_url).start_servers()
    yield stack
    stack.stop()


class Background:
    """Components running on threads for one test. Halting joins them: a component still reading the event
    store when the module's servers close would crash the interpreter (SQLite closed under a running query)."""

    def __init__(self):
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def run(self, component) -> None:
        thread = threading.Thread(target=component.run, args=(self.stop,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def halt(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


@pytest.fixture
def background():
    running = Background()
    yield running
    running.halt()


def record_workload(system, sessions: int = 5, messages_per_session: int = 3) -> list[str]:
    """A team, a key, a chatbot and sessions with history, recorded on the write model only."""
    slug = f"team-{len(system.app.recorder.select_notifications(start=1, limit=100000))}"
    chatbot_id = new_team_with_chatbot(system.bus, slug)
    system.bus.handle(commands.IssueApiKey(team=slug, name="k", read_only=False))
    system.bus.handle(commands.PublishVersion(chatbot_id=chatbot_id, description="v1", make_default=False))
    session_ids = []
    for n in range(sessions):
        history = tuple({"role": "user", "content": f"message {n}.{m}"} for m in range(messages_per_session))
        created = system.bus.handle(
            commands.CreateSession(
                team=slug,
                caller="admin",
                experiment=chatbot_id,
                participant=f"p{n % 2}",
                messages=history,
                state={"n": n},
                page_context={"page": n},
            )
        )
        session_ids.append(str(created.session.id))
    return session_ids
