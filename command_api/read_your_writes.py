"""Read-your-writes: a command answers once the read model shows its events, so the client's next GET
sees them (SPEC §5.1). The wait is bounded: a slow projector delays an answer, never blocks it.

Each check is a MongoDB read that competes with the projector it waits for. Where the projectors can ring this
process's doorbell (`ocs up`: one machine), they say which aggregates they applied, and while rings come a wait
checks when its aggregate is named: one read instead of one every few milliseconds, as soon as the projection is
there. A ring is only a hint (an applied event may not show, behind a missing version): the read decides, and
without rings the waiter checks on its own. It learns how long projection has been taking and makes its first
check when most of that time has passed (while rings come, only once twice that has passed unnamed): under load a
chat start then checks two or three times instead of about ten, and at rest it still answers within a few ms."""

import json
import logging
import threading
import time

from pymongo.database import Database
from pymongo.errors import PyMongoError

from infra.doorbells import Doorbell
from infra.recent import Recent

log = logging.getLogger(__name__)

# The first check comes after this share of the recent typical delay...
FIRST_CHECK_SHARE = 0.7
# ...which follows each observed delay by this weight.
LEARNING_WEIGHT = 0.2
MAX_PAUSE_S = 0.02
# With rings, the first check waits for its aggregate to be named, up to this many typical delays (at least
# UNNAMED_AT_LEAST_S): only a lost ring costs a wait that long.
UNNAMED_DELAYS = 2
UNNAMED_AT_LEAST_S = 0.05
# Aggregates whose last applied version is remembered (the waits in flight need only a few).
HEARD_KEPT = 10_000
# Rings are waited for only while they come: not where the projectors run on other hosts, nor after a quiet spell.
HEARING_S = 5.0
EVER = -1


class ProjectionNews:
    """What the projectors said they applied, heard on this process's doorbell by one thread: each aggregate's last
    version named, with the number of the ring that named it (`rings` counts them)."""

    def __init__(self, doorbell: Doorbell):
        self.doorbell = doorbell
        self.heard = Recent(HEARD_KEPT)  # aggregate id: (version, ring number)
        self.rings = 0
        self.heard_at = float("-inf")  # time.monotonic() of the last ring
        self.changed = threading.Condition()
        self.listener: threading.Thread | None = None

    def hearing(self) -> bool:
        """Whether rings have come lately (the first call starts listening)."""
        with self.changed:
            if self.listener is None:
                self.listener = threading.Thread(target=self.listen, name="projection-news", daemon=True)
                self.listener.start()
            return time.monotonic() - self.heard_at < HEARING_S

    def wait(self, versions: dict[str, int], after_ring: int, timeout_s: float) -> None:
        """Until a ring after ring number `after_ring` names one of these aggregates at its version or later, or
        until the timeout."""
        with self.changed:
            self.changed.wait_for(lambda: self.named(versions, after_ring), timeout_s)

    def named(self, versions: dict[str, int], after_ring: int) -> bool:
        """Call with `changed` held."""
        heard = self.heard.of(versions)
        return any(version >= versions[key] and ring > after_ring for key, (version, ring) in heard.items())

    def listen(self) -> None:
        """Until the doorbell is closed."""
        while True:
            try:
                said = self.doorbell.news(1.0)
            except (OSError, ValueError):
                return
            if said:
                self.hear(said)

    def hear(self, said: list[bytes]) -> None:
        with self.changed:
            self.rings += 1
            self.heard_at = time.monotonic()
            for message in said:
                try:
                    applied = [(str(aggregate_id), int(version)) for aggregate_id, version in json.loads(message)]
                except (ValueError, TypeError) as exc:
                    log.warning("a ring said what is not applied aggregates (%s); ignored", exc)
                    continue
                self.heard.keep({aggregate_id: (version, self.rings) for aggregate_id, version in applied})
            self.changed.notify_all()


class ReadModelWaiter:
    def __init__(self, db: Database, timeout_s: float, news: ProjectionNews | None = None):
        """`news`: what the projectors applied, where they ring this process's doorbell."""
        self.db = db
        self.timeout_s = timeout_s
        self.news = news
        self.typical_delay_s = 0.0
        self.lock = threading.Lock()

    def wait(self, collection: str, doc_id: str, version: int) -> bool:
        """True once the document has reached that aggregate version; False if the bound ran out first."""
        return self.wait_all(collection, {doc_id: version})

    def wait_all(self, collection: str, versions: dict[str, int]) -> bool:
        """`wait` for several documents at once (each at least at its version), one read per check."""
        started = time.monotonic()
        deadline = started + self.timeout_s
        news = self.news if self.news is not None and self.news.hearing() else None
        if news is None:
            time.sleep(min(FIRST_CHECK_SHARE * self.typical_delay_s, self.timeout_s))
        else:
            unnamed = max(UNNAMED_DELAYS * self.typical_delay_s, UNNAMED_AT_LEAST_S)
            news.wait(versions, EVER, min(unnamed, self.timeout_s))
        pause = 0.001
        while True:
            ring = news.rings if news is not None else EVER
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
            if news is None:
                time.sleep(pause)
            else:
                news.wait(versions, ring, pause)
            pause = min(pause * 2, MAX_PAUSE_S)

    def learn(self, delay_s: float) -> None:
        with self.lock:
            self.typical_delay_s += LEARNING_WEIGHT * (delay_s - self.typical_delay_s)
