"""Configuration: a data directory for the embedded default, and environment variables for real servers.

| variable | meaning | embedded default |
|---|---|---|
| OCS_DATA_DIR | where the embedded stack keeps its data | `./.ocs-data` (or `--data-dir`) |
| OCS_EVENT_STORE_URL | `sqlite:///PATH` or `postgresql://user:pw@host:port/db` | SQLite file in the data dir |
| OCS_KAFKA_BOOTSTRAP | Kafka bootstrap servers, comma-separated | the local broker `ocs up` started |
| OCS_MONGO_URL | MongoDB connection string | the local server `ocs up` started |
| OCS_MONGO_DB | database holding the read models | `ocs` |
| OCS_KAFKA_PARTITIONS | partitions per topic when the relay creates topics | 8 |
| OCS_KAFKA_MAX_MESSAGE_BYTES | the most one broker message holds; events stay 16 KiB below it | 1048576 |
| OCS_KAFKA_RETENTION_MS | ms a topic keeps a record our groups have read (-1: forever) | 7 days; local broker: 60000 |
| OCS_READ_YOUR_WRITES_TIMEOUT | seconds a command waits for its read model | 5 |
| OCS_SECRET_KEY | signs chat session tokens; every API process must share it | generated once into the data dir |
| OCS_FILES_DIR | where uploaded files' bytes are kept; shared by every API process | `files/` in the data dir |
| OCS_LLM_TIMEOUT | seconds one LLM call may take | 60 |
| OCS_LLM_ATTEMPTS | LLM calls per message before the task ends in error | 3 |
| OCS_WORKER_CONCURRENCY | LLM calls one worker process runs at once | 64 |
| OCS_API_WORKERS | gunicorn worker processes of the API under `ocs up` / `ocs run api` | 1 |
| OCS_API_THREADS | threads per API worker: requests one worker serves at once, open chat streams included | 128 |
| OCS_DELIVERY_ATTEMPTS | attempts to deliver one event to a webhook before it is parked | 5 |
| OCS_DELIVERY_BACKOFF | seconds before a webhook's second attempt; doubled before each next one (up to 30) | 0.5 |
| OCS_DELIVERY_TIMEOUT | seconds one webhook attempt may take | 10 |
| OCS_DELIVERY_CONCURRENCY | webhook subscriptions the delivery worker serves at once | 16 |
| OCS_RATE_LIMIT_ENFORCE | `true`: over-limit requests get 429; otherwise only logged (counts batched) | false |
| OCS_RATE_LIMIT_DB | MongoDB database of the rate-limit counters | `<OCS_MONGO_DB>_rate_limits` |
| OCS_RATE_LIMIT_API | the `api` bucket's rate (per team) | 2000/5minute |
| OCS_RATE_LIMIT_CHAT_API | the `chat_api` bucket's rate (per chat session) | 300/5minute |
| OCS_RATE_LIMIT_CREDENTIALS | the `credentials` bucket's rate (failed keys per address) | 100/5minute |
| OCS_TRUSTED_PROXIES | proxies in front of the API whose X-Forwarded-* headers are believed | 0 |
| OCS_COOKIE_SESSION_LIFETIME | seconds a signed-in page's session cookie lasts | 1209600 (two weeks) |
| OCS_COOKIE_SAMESITE | the sign-in cookies' SameSite: `Lax`, `Strict`, `None` (pages on other sites) | Lax |
| OCS_INSTANCE_ID | this replica's name in its consumer groups; unique per replica on one host | the host name |
| OCS_EVENT_FEED_RETENTION_DAYS | days the teams' event feeds keep an event (`0.5` allowed) | unset: forever |
| OCS_DEMO_PAGE | `true`: serve the chat page `/demo/<chatbot id>` (infra/demo_page.py) | false; `ocs up`: true |
"""

import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from infra.cookie_sessions import DEFAULT_LIFETIME_S, SAME_SITE_VALUES
from infra.kafka import DEFAULT_MAX_MESSAGE_BYTES
from infra.rate_limits import DEFAULT_RATES

DEFAULT_DATA_DIR = ".ocs-data"
# Kafka's own default retention; the local broker holds its records in memory, so it keeps a minute's
# (`infra.kafka_retention`).
BROKER_RETENTION_MS = 7 * 24 * 3600 * 1000
LOCAL_BROKER_RETENTION_MS = 60_000
STACK_FILE = "stack.json"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    event_store_url: str
    kafka_bootstrap: str
    mongo_url: str
    mongo_db: str
    kafka_partitions: int
    read_your_writes_timeout: float
    secret_key: str
    files_dir: Path
    llm_timeout: float
    llm_attempts: int
    worker_concurrency: int
    rate_limit_enforce: bool = False
    rate_limits: dict = field(default_factory=lambda: dict(DEFAULT_RATES))
    rate_limit_db: str = ""
    trusted_proxies: int = 0
    kafka_max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    kafka_retention_ms: int = BROKER_RETENTION_MS
    cookie_session_lifetime_s: int = DEFAULT_LIFETIME_S
    cookie_same_site: str = "Lax"
    event_feed_retention: timedelta | None = None  # None: the feeds keep every event
    delivery_attempts: int = 5
    delivery_backoff: float = 0.5
    delivery_timeout: float = 10.0
    delivery_concurrency: int = 16
    demo_page: bool = False
    api_workers: int = 1
    api_threads: int = 128

    @property
    def rate_limit_database(self) -> str:
        return self.rate_limit_db or f"{self.mongo_db}_rate_limits"


def local_servers(data_dir: Path) -> dict:
    """Addresses of the servers `ocs up` started for this data dir ({} when it is not running)."""
    try:
        return json.loads((data_dir / STACK_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def generated_secret(data_dir: Path) -> str:
    """The data dir's own secret, made on first use (for the embedded default only)."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # The stack's processes start together and each may make one: written whole beside it, then linked into
        # place, so the first link wins and no process reads a secret half written or fails on another's.
        descriptor, written = tempfile.mkstemp(dir=data_dir, prefix="secret.key.")  # mode 0600
        with open(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(written, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(written)
    return path.read_text().strip()


def retention(days: str | None) -> timedelta | None:
    """A retention window in days (`1.5`), or None (keep everything) when unset."""
    if not (days or "").strip():
        return None
    window = timedelta(days=float(days))
    if window <= timedelta(0):
        raise ValueError(f"a retention window must be more than 0 days, not {days}")
    return window


def kafka_retention_ms(text: str | None, default: int) -> int:
    """Milliseconds, or -1 to keep every record; anything else stops the process at start."""
    window = int(text) if (text or "").strip() else default
    if window < -1:
        raise ValueError(f"OCS_KAFKA_RETENTION_MS must be -1 (forever) or at least 0, not {text}")
    return window


def load_settings(data_dir: str | os.PathLike | None = None, environ=os.environ) -> Settings:
    root = Path(data_dir or environ.get("OCS_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
    local = local_servers(root)
    return Settings(
        data_dir=root,
        event_store_url=environ.get("OCS_EVENT_STORE_URL") or f"sqlite:///{root / 'events.sqlite'}",
        kafka_bootstrap=environ.get("OCS_KAFKA_BOOTSTRAP") or local.get("kafka_bootstrap", ""),
        mongo_url=environ.get("OCS_MONGO_URL") or local.get("mongo_url", ""),
        mongo_db=environ.get("OCS_MONGO_DB") or "ocs",
        kafka_partitions=int(environ.get("OCS_KAFKA_PARTITIONS") or 8),
        kafka_max_message_bytes=int(environ.get("OCS_KAFKA_MAX_MESSAGE_BYTES") or DEFAULT_MAX_MESSAGE_BYTES),
        kafka_retention_ms=kafka_retention_ms(
            environ.get("OCS_KAFKA_RETENTION_MS"),
            BROKER_RETENTION_MS if environ.get("OCS_KAFKA_BOOTSTRAP") else LOCAL_BROKER_RETENTION_MS,
        ),
        read_your_writes_timeout=float(environ.get("OCS_READ_YOUR_WRITES_TIMEOUT") or 5),
        secret_key=environ.get("OCS_SECRET_KEY") or generated_secret(root),
        files_dir=Path(environ.get("OCS_FILES_DIR") or root / "files"),
        llm_timeout=float(environ.get("OCS_LLM_TIMEOUT") or 60),
        llm_attempts=int(environ.get("OCS_LLM_ATTEMPTS") or 3),
        worker_concurrency=int(environ.get("OCS_WORKER_CONCURRENCY") or 64),
        rate_limit_enforce=switched_on(environ.get("OCS_RATE_LIMIT_ENFORCE")),
        rate_limit_db=environ.get("OCS_RATE_LIMIT_DB") or "",
        trusted_proxies=int(environ.get("OCS_TRUSTED_PROXIES") or 0),
        cookie_session_lifetime_s=int(environ.get("OCS_COOKIE_SESSION_LIFETIME") or DEFAULT_LIFETIME_S),
        cookie_same_site=same_site(environ.get("OCS_COOKIE_SAMESITE") or "Lax"),
        event_feed_retention=retention(environ.get("OCS_EVENT_FEED_RETENTION_DAYS")),
        delivery_attempts=int(environ.get("OCS_DELIVERY_ATTEMPTS") or 5),
        delivery_backoff=float(environ.get("OCS_DELIVERY_BACKOFF") or 0.5),
        delivery_timeout=float(environ.get("OCS_DELIVERY_TIMEOUT") or 10),
        delivery_concurrency=int(environ.get("OCS_DELIVERY_CONCURRENCY") or 16),
        demo_page=switched_on(environ.get("OCS_DEMO_PAGE")),
        api_workers=int(environ.get("OCS_API_WORKERS") or 1),
        api_threads=int(environ.get("OCS_API_THREADS") or 128),
        rate_limits={
            bucket: environ.get(f"OCS_RATE_LIMIT_{bucket.upper()}") or rate for bucket, rate in DEFAULT_RATES.items()
        },
    )


def switched_on(text: str | None) -> bool:
    """An on/off variable: `1`, `true` or `yes` (any case) is on; anything else, or unset, is off."""
    return (text or "").strip().lower() in ("1", "true", "yes")


def same_site(text: str) -> str:
    """A SameSite value as cookies spell it; anything else stops the process at start, not a browser later."""
    for value in SAME_SITE_VALUES:
        if text.lower() == value.lower():
            return value
    raise ValueError(f"OCS_COOKIE_SAMESITE must be one of {', '.join(SAME_SITE_VALUES)}, not {text!r}")
