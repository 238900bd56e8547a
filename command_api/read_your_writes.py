"""Read-your-writes: a command answers once the read model shows its events, so the client's next GET
sees them (SPEC §5.1). The wait is bounded: a slow projector delays an answer, never blocks it."""

import time

from pymongo.database import Database
from pymongo.errors import PyMongoError


class ReadModelWaiter:
    def __init__(self, db: Database, timeout_s: float):
        self.db = db
        self.timeout_s = timeout_s

    def wait(self, collection: str, doc_id: str, version: int) -> bool:
        """True once the document has reached that aggregate version; False if the bound ran out first."""
        deadline = time.monotonic() + self.timeout_s
        pause = 0.001
        while True:
            try:
                if self.db[collection].find_one({"_id": doc_id, "version": {"$gte": version}}, {"_id": 1}):
                    return True
            except PyMongoError:
                pass  # the read model being down must not fail a command that is already recorded
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
