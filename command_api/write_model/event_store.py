"""Event store configuration: eventsourcing's own recorders, SQLite on the embedded default, PostgreSQL by URL."""

from urllib.parse import unquote, urlparse

from eventsourcing.sqlite import SQLiteConnectionPool, SQLiteFactory


class TunedSQLiteConnectionPool(SQLiteConnectionPool):
    def _create_connection(self):
        connection = super()._create_connection()
        # WAL with synchronous=NORMAL survives any process crash (only an OS crash or power loss can
        # drop the last commits) and takes command latency from tens of ms to a few.
        connection._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
        return connection


class TunedSQLiteFactory(SQLiteFactory):
    """eventsourcing 9.5 has no setting for `synchronous`, so its connections are made here."""

    def __init__(self, env):
        super().__init__(env)
        default_pool = self.datastore.pool
        self.datastore.pool = TunedSQLiteConnectionPool(
            db_name=default_pool.db_name, lock_timeout=default_pool.lock_timeout
        )
        default_pool.close()


def event_store_environment(url: str) -> dict[str, str]:
    """eventsourcing's environment for an event store URL: `sqlite:///path` or `postgresql://user:pw@host:port/db`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return {
            "PERSISTENCE_MODULE": f"{__name__}:TunedSQLiteFactory",
            "SQLITE_DBNAME": unquote(parsed.path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if parsed.scheme in ("postgres", "postgresql"):
        return {
            "PERSISTENCE_MODULE": "command_api.write_model.postgres_event_store:OcsPostgresFactory",
            "POSTGRES_DBNAME": parsed.path.lstrip("/"),
            "POSTGRES_HOST": parsed.hostname or "localhost",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or ""),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
        }
    raise ValueError(f"unsupported event store URL {url!r}: use sqlite:///PATH or postgresql://...")
