"""What the chat polls read (SPEC §3.18, §3.19): a session's messages after an instant, and a task's outcome."""

import threading

from pymongo.database import Database

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


class TaskSessions:
    """Which session a task belongs to, from the user message that names it: never changes once known, so each API
    process keeps what it has read (a widget polling its unfinished task then costs one read, not two). Tasks not
    found are never remembered."""

    def __init__(self, db: Database, size: int = 20_000):
        self.db = db
        self.size = size
        self.known: dict[str, str] = {}
        self.lock = threading.Lock()

    def session_of(self, task_id: str) -> str | None:
        session_id = self.known.get(task_id)
        if session_id is None:
            message = self.db[MESSAGES].find_one({"task_id": task_id}, {"session_id": 1})
            if message is not None:
                session_id = message["session_id"]
                with self.lock:
                    if len(self.known) >= self.size:
                        del self.known[next(iter(self.known))]  # the oldest entry
                    self.known[task_id] = session_id
        return session_id


def session_task(db: Database, tasks: TaskSessions, session_id: str, task_id: str) -> dict | None:
    """The session's task (None while it is unfinished, or unknown), its reply message beside it as `message`.
    Another session's task is not found, finished or not (as OCS answers)."""
    task = db[TASKS].find_one({"_id": task_id})
    owner = task["session_id"] if task is not None else tasks.session_of(task_id)
    if owner is not None and owner != session_id:
        raise detail(404, "Not found.")
    if task is not None and task["status"] == "complete" and not task.get("message"):
        # Tasks projected before they kept a copy of their reply have only its id.
        task["message"] = db[MESSAGES].find_one({"_id": task["message_id"]})
    return task
