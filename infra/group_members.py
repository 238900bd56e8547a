"""Members that are gone for good leave their consumer group, on every broker.

Consumers are static members (`infra/kafka.py`): a replica restarted under its instance id takes its partitions
straight back. Apache Kafka removes a static member that stays silent for its session timeout; the local broker
never does, so a replica killed for good would keep its partitions, and a rebalance would wait for it forever.
So each replica of a component also watches its fellows' heartbeats: one silent for EVICT_AFTER_S is removed from
the group (a LeaveGroup on its behalf, by its group instance id), once, by the live replica first in instance
order, and its partitions go to the live ones in the rebalance that follows. On Apache Kafka the broker removes it
after the consumers' session timeout (`infra/kafka.py`, as short as the broker allows), and the request changes
nothing. Until then its partitions wait: that is the stall a replica killed for good causes.
"""

import logging
import time

from kafka import KafkaAdminClient
from kafka.admin import MemberToRemove
from kafka.errors import KafkaError
from pymongo.database import Database
from pymongo.errors import PyMongoError

from infra.heartbeat import FORGOTTEN_AFTER_S, end_transaction_of, heartbeats
from infra.kafka import group_instance_id

log = logging.getLogger(__name__)

# A live replica beats every second (a projector between the chunks of its batch, and between the events it
# tries one by one, too): one silent this long is taken for gone. Short, since its partitions wait for it
# meanwhile; longer than a restart under the same id (`ocs up` restarts a dead replica within a second or two). A
# live replica taken for gone by mistake only rejoins, at the cost of a rebalance.
EVICT_AFTER_S = 5.0
CHECK_EVERY_S = 0.5


def to_remove(beats: list[dict], me: str, now: float, evicted: set[tuple[str, float]]) -> list[dict]:
    """The replicas silent for EVICT_AFTER_S that replica `me` is to remove: none unless it is the first live one
    in instance order, and none while its own last beat is getting old too (its writes were held up, by a MongoDB
    stall say, and so may theirs have been)."""
    silent_for = {beat["instance"]: now - beat["at"] for beat in beats}
    live = sorted(instance for instance, silence in silent_for.items() if silence < EVICT_AFTER_S)
    if not live or live[0] != me or silent_for[me] > EVICT_AFTER_S / 2:
        return []
    return [
        beat
        for beat in beats
        if EVICT_AFTER_S <= silent_for[beat["instance"]] < FORGOTTEN_AFTER_S
        and (beat["instance"], beat["at"]) not in evicted
    ]


class GroupMembers:
    def __init__(self, db: Database, component: str, group: str, instance: str, bootstrap: str):
        self.db = db
        self.component = component
        self.group = group
        self.instance = instance
        self.bootstrap = bootstrap
        self.last_check = 0.0
        self.evicted: set[tuple[str, float]] = set()  # (instance, its last heartbeat)
        self.last_unblock = 0.0
        self.ended: set[tuple[str, float]] = set()  # whose sessions were ended, as above

    def remove_the_departed(self) -> None:
        """Remove the replicas silent for EVICT_AFTER_S from the group, if this replica is the one to do it."""
        if time.monotonic() - self.last_check < CHECK_EVERY_S:
            return
        self.last_check = time.monotonic()
        beats = self.beats()
        if beats is None:
            return
        now = time.time()
        departed = to_remove(beats, self.instance, now, self.evicted)
        if departed:
            self.evict(departed, now)

    def beats(self) -> list[dict] | None:
        """The last heartbeat of each replica of this component (None when unreadable)."""
        try:
            return heartbeats(self.db, [self.component])[self.component]
        except PyMongoError as exc:
            log.warning("heartbeats of %s unreadable: %s", self.component, exc)
            return None

    def unblock(self) -> None:
        """End the sessions that replicas silent for EVICT_AFTER_S named in their heartbeats (once each, at most
        every CHECK_EVERY_S): a replica killed in the middle of a transaction left its writes locked, and a live one
        whose transaction conflicts with them calls this before trying again. Called from the live one's work, not
        its loop, which waits meanwhile; whether or not this one is to remove them from the group."""
        if time.monotonic() - self.last_unblock < CHECK_EVERY_S:
            return
        self.last_unblock = time.monotonic()
        beats = self.beats()
        if beats is None:
            return
        now = time.time()
        for beat in beats:
            ended = (beat["instance"], beat["at"])
            if beat["instance"] != self.instance and now - beat["at"] >= EVICT_AFTER_S and ended not in self.ended:
                end_transaction_of(self.db, beat)
                self.ended.add(ended)
                silent_s = now - beat["at"]
                log.warning("ended %s's session (silent %.0f s): a transaction waited", beat["instance"], silent_s)

    def evict(self, departed: list[dict], now: float) -> None:
        members = [
            MemberToRemove(group_instance_id=group_instance_id(self.group, beat["instance"])) for beat in departed
        ]
        admin = None
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"{self.group}-members")
            admin.remove_group_members(self.group, members)
        except KafkaError as exc:  # e.g. none of them is a member any more: nothing to do
            log.info("removing departed members of %s: %s", self.group, exc)
        except Exception as exc:
            log.warning("could not remove departed members of %s: %s; trying again", self.group, exc)
            return
        finally:
            if admin is not None:
                admin.close()
        for beat in departed:
            self.evicted.add((beat["instance"], beat["at"]))
            log.warning("removed %s from %s: silent for %.0f s", beat["instance"], self.group, now - beat["at"])
