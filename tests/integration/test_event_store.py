"""The PostgreSQL event store as production's processes open it."""

import threading

from command_api import commands
from command_api.write_model.application import OcsApplication
from tests.write_model import new_bus


def open_at_once(event_store_url: str, files_dir, openers: int) -> list[Exception]:
    """What went wrong when `openers` applications opened the event store at the same moment."""
    barrier, failures = threading.Barrier(openers), []

    def open_it():
        barrier.wait()
        try:
            OcsApplication(event_store_url, files_dir).close()
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_processes_that_open_the_postgresql_event_store_at_the_same_time_all_open_it(postgres_cluster, tmp_path):
    # A gunicorn's workers start together, and each opening creates (or replaces) the schema: first on an
    # empty database, then on one that has it.
    event_store_url = postgres_cluster.create_database()
    assert open_at_once(event_store_url, tmp_path / "files", 8) == []
    assert open_at_once(event_store_url, tmp_path / "files", 8) == []

    app = OcsApplication(event_store_url, tmp_path / "files")
    try:
        new_bus(app).handle(commands.CreateTeam(slug="acme", name="Acme"))
        assert [envelope["type"] for envelope in app.envelopes(0, 10)] == ["Team.Created"]
    finally:
        app.close()
