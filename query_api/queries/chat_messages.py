"""What the chat polls read (SPEC §3.18, §3.19): a session's messages after an instant, and a task's outcome."""

from pymongo.database import Database

from query_api.queries.remembered import Remembered
from schemas.errors import detail
from schemas.read_models import MESSAGES, SESSIONS, TASKS


def chat_session(db: Database, session_id: str) -> dict | None:
    return db[SESSIONS].find_one({"_id": session_id})


def messages_since(db: Database, session_id: str, since: str | None, limit: int) -> tuple[list[dict], bool]:
    """(up to `limit` of the session's messages created after `since`, oldest first; whether more follow)."""
    query: dict = {"session_id": session_id}
    if since:
        query["created_at"] = {"$gt": since}
    docs = list(db[MESSAGES].find(query).sort("created_at", 1).limit(limit + 1))
    return docs[:limit], len(docs) > limit


def task_sessions_of(db: Database) -> Remembered:
    """Which session a task belongs to, from the user message that names it, by task id."""

    def session_of(task_id: str) -> str | None:
        message = db[MESSAGES].find_one({"task_id": task_id}, {"session_id": 1})
        return message["session_id"] if message is not None else None

    return Remembered(session_of)


def session_task(db: Database, tasks: Remembered, session_id: str, task_id: str) -> dict | None:
    """The session's task (None while it is unfinished, or unknown), its reply message beside it as `message`.
    Another session's task is not found, finished or not (as OCS answers)."""
    task = db[TASKS].find_one({"_id": task_id})
    owner = task["session_id"] if task is not None else tasks.get(task_id)
    if owner is not None and owner != session_id:
        raise detail(404, "Not found.")
    if task is not None and task["status"] == "complete" and not task.get("message"):
        # Tasks projected before they kept a copy of their reply have only its id.
        task["message"] = db[MESSAGES].find_one({"_id": task["message_id"]})
    return task
