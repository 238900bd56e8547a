"""Read-your-writes: a command answers once the read model shows its events, so the client's next GET
sees them (SPEC §5.1). The wait is bounded: a slow projector delays an answer, never blocks it.

Each check is a MongoDB read that competes with the projector it waits for, so the waiter learns how long
projection has been taking and makes its first check when most of that time has passed: under load a chat
start then checks two or three times instead of about ten, and at rest it still answers within a few ms."""

import threading
import time

from pymongo.database import Database
from pymongo.errors import PyMongoError

# The first check comes after this share of the recent typical delay...
FIRST_CHECK_SHARE = 0.7
# ...which follows each observed delay by this weight.
LEARNING_WEIGHT = 0.2
MAX_PAUSE_S = 0.02


class ReadModelWaiter:
    def __init__(self, db: Database, timeout_s: float):
        self.db = db
        self.timeout_s = timeout_s
        self.typical_delay_s = 0.0
        self.lock = threading.Lock()

    def wait(self, collection: str, doc_id: str, version: int) -> bool:
        """True once the document has reached that aggregate version; False if the bound ran out first."""
        return self.wait_all(collection, {doc_id: version})

    def wait_all(self, collection: str, versions: dict[str, int]) -> bool:
        """`wait` for several documents at once (each at least at its version), one read per check."""
        started = time.monotonic()
        deadline = started + self.timeout_s
        time.sleep(min(FIRST_CHECK_SHARE * self.typical_delay_s, self.timeout_s))
        pause = 0.001
        while True:
            try:
                docs = self.db[collection].find({"_id": {"$in": list(versions)}}, {"version": 1})
                seen = {doc["_id"]: doc["version"] for doc in docs}
                if all(seen.get(doc_id, 0) >= version for doc_id, version in versions.items()):
                    self.learn(time.monotonic() - started)
                    return True
            except PyMongoError:
                pass  # the read model being down must not fail a command that is already recorded
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)

    def learn(self, delay_s: float) -> None:
        with self.lock:
            self.typical_delay_s += LEARNING_WEIGHT * (delay_s - self.typical_delay_s)
