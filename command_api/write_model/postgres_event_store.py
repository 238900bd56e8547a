"""The PostgreSQL event store: eventsourcing's recorders, creating their schema one process at a time.

A module of its own because it imports psycopg, which only the `postgres` extra installs.
"""

from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresFactory

# The key of the advisory lock below: any number, the same in every process of this system.
SCHEMA_LOCK_KEY = 0x6F6373  # "ocs"


class OneAtATimeSchema:
    """eventsourcing creates its tables and types and replaces its insert function whenever a process opens
    the event store. Processes doing that at once (a gunicorn's workers all start together) fail with "tuple
    concurrently updated" or a duplicate pg_type, so they take turns under a session-level advisory lock."""

    def create_table(self) -> None:
        with self.datastore.get_connection() as connection:  # autocommit: the lock outlives each statement
            connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
            try:
                super().create_table()
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


class OcsApplicationRecorder(OneAtATimeSchema, PostgresApplicationRecorder):
    pass


class OcsAggregateRecorder(OneAtATimeSchema, PostgresAggregateRecorder):
    pass


class OcsPostgresFactory(PostgresFactory):
    application_recorder_class = OcsApplicationRecorder
    # Snapshots are kept by an aggregate recorder.
    aggregate_recorder_class = OcsAggregateRecorder
