"""Instants as text: one form written everywhere (UTC, microseconds, `Z`; as OCS renders them, and sortable as
text), and the ISO-8601 forms clients send read back into instants."""

from datetime import datetime, timezone


def utc_iso(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant, `Z` included; UTC when it names no zone. ValueError for anything else."""
    instant = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)
