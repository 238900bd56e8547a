"""Indexes of the read models: every query the query API makes is served by one of these."""

from pymongo import ASCENDING as UP
from pymongo.database import Database

from schemas.read_models import (
    API_KEYS,
    CHATBOTS,
    EVENTS,
    FILES,
    MESSAGES,
    MESSAGING_CHANNELS,
    PARTICIPANTS,
    SESSIONS,
    TASKS,
    TEAMS,
    USAGE,
    WIDGET_CHANNELS,
)

INDEXES = {
    # Which team allows an origin, for browsers' preflight requests (a multikey index).
    TEAMS: [([("team", UP)], {"unique": True}), ([("allowed_origins", UP)], {})],
    API_KEYS: [([("prefix", UP)], {"unique": True})],
    CHATBOTS: [([("team", UP), ("sort_key", UP)], {})],
    WIDGET_CHANNELS: [([("chatbot_id", UP)], {})],
    MESSAGING_CHANNELS: [([("chatbot_id", UP)], {})],
    # A list's page is read in windows of `sort_key` under one equality (`query_api/queries/pagination.py`): each
    # index ends with `sort_key`, so a window is one bounded range of it.
    PARTICIPANTS: [([("team", UP), ("sort_key", UP)], {}), ([("team", UP), ("identifier", UP), ("sort_key", UP)], {})],
    SESSIONS: [
        ([("team", UP), ("sort_key", UP)], {}),
        ([("team", UP), ("experiment_id", UP), ("sort_key", UP)], {}),
        ([("team", UP), ("tags", UP), ("sort_key", UP)], {}),
        ([("team", UP), ("version_tags", UP), ("sort_key", UP)], {}),
    ],
    FILES: [([("file_id", UP)], {"unique": True})],
    # One index per message (each costs every insert): a session's messages in `seq` order are its few
    # documents found through this index's prefix, then sorted.
    # A user's message also names its task: a task poll finds whose task an unfinished one is.
    MESSAGES: [([("session_id", UP), ("created_at", UP)], {}), ([("task_id", UP)], {"sparse": True})],
    TASKS: [([("session_id", UP)], {})],
    # Retention deletes by instant: an indexed range, not a scan of every team's feed.
    EVENTS: [([("team", UP), ("position", UP)], {}), ([("occurred_at", UP)], {})],
    # A usage request reads its window's days at one level of counters, for one participant when it names one.
    USAGE: [
        ([("team", UP), ("level", UP), ("day", UP)], {}),
        ([("team", UP), ("level", UP), ("participant", UP), ("day", UP)], {}),
    ],
}


def ensure_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        for keys, options in indexes:
            db[collection].create_index(keys, **options)
