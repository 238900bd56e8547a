"""The delivery worker: every webhook subscription (`workers.subscriptions`) follows its team's event feed from
its cursor (`workers.delivery_progress`) and POSTs each event it wants, in log order, signed
(`workers.webhook_post`), at least once.

Subscriptions are served independently: each by one thread at a time from a bounded pool, and a failed attempt
does not sleep on its thread but schedules the subscription's next turn after a backoff, so a slow or failing
endpoint holds up its own subscription only. After `attempts` tries an event is parked for its subscription; later
events of the same aggregate are parked behind it (its order is kept), while other aggregates' go on. An admin's
replay (`ocs admin replay-subscription`) delivers the parked ones again, in order, before anything new.

A messaging channel's bot messages are one such subscription; a delivered one is recorded on its session
(`ChatSession.DeliveryRecorded`), as before subscriptions. A parked one is not: it is not over until a replay
delivers it (`ocs admin subscription-status` shows it meanwhile).

Replicas share the subscriptions: each is delivered by the replica holding its lease (`DeliveryProgress.claim`),
and a cursor moves only under its lease, so a replica that lost one stops there (docs/operations.md).
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from pymongo.database import Database

from command_api import commands
from command_api.bus import CommandBus
from infra.heartbeat import Heartbeat
from infra.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_SECONDS
from infra.secrets import webhook_secret
from workers.delivery_progress import DeliveryProgress
from workers.subscriptions import WebhookSubscription, start_of, still_enabled, webhook_subscriptions
from workers.webhook_post import post_event

log = logging.getLogger(__name__)

BATCH = 100
TICK_S = 0.05
# New and disabled subscriptions are seen this often; a subscription with nothing new in its feed gets a turn this
# often too (for a replay an admin asked for), and otherwise only once the feed has grown.
LIST_EVERY_S = 1.0
# After a turn failed for a reason of ours (MongoDB, the event store), not the receiver's.
RETRY_S = 1.0
MAX_BACKOFF_S = 30.0
WAITING = "waiting behind an earlier parked event of its aggregate"


@dataclass(frozen=True)
class DeliverySettings:
    attempts: int  # per event, before it is parked
    concurrency: int  # subscriptions served at once
    timeout_s: float  # per attempt
    backoff_s: float  # before the second attempt; doubled before each next one, up to MAX_BACKOFF_S


@dataclass(frozen=True)
class Attempted:
    delivered: bool
    attempts: int
    error: str | None = None
    retry_in: float | None = None  # not given up yet: the event's next attempt is due after this long


@dataclass(frozen=True)
class Head:
    """The event a subscription's last attempt failed at, and its attempts so far."""

    event_id: str
    attempts: int


class Schedule:
    """When each subscription's next turn is due: at once after a full batch, after its backoff after a failed
    attempt, and, once it has caught up with its feed, when the feed grows (or after LIST_EVERY_S, for replays)."""

    def __init__(self):
        self.due: dict[str, float] = {}
        self.caught_up_at: dict[str, int] = {}  # the feed's end when a subscription last found nothing new

    def is_due(self, subscription_id: str, feed_end: int) -> bool:
        caught_up_at = self.caught_up_at.get(subscription_id)
        grown = caught_up_at is not None and feed_end > caught_up_at
        return grown or self.due.get(subscription_id, 0.0) <= time.monotonic()

    def after_turn(self, subscription_id: str, pause: float | None, feed_end_at_start: int) -> None:
        """`pause`: what the turn answered, None when it caught up with the feed as it was when the turn began."""
        if pause is None:
            self.caught_up_at[subscription_id], pause = feed_end_at_start, LIST_EVERY_S
        else:
            self.caught_up_at.pop(subscription_id, None)
        self.due[subscription_id] = time.monotonic() + pause


class SubscriptionDelivery:
    def __init__(
        self,
        db: Database,
        read_feed: Callable[[str, int, tuple[str, ...], int], list[dict]],
        feed_state: Callable[[], tuple[int, int] | None],
        bus: CommandBus,
        secret_key: str,
        heartbeat: Heartbeat,
        settings: DeliverySettings,
        owner: str,
    ):
        """`read_feed(team, after, types, limit)`: the team's feed (`query_api.queries.events`); `feed_state()`: (the
        last log position copied into the feeds, the rebuilds that have refilled them), None while one does
        (`projectors.feed`); both given by the wiring. `owner`: this replica's name in the subscriptions' leases (its
        instance id)."""
        self.db = db
        self.read_feed = read_feed
        self.feed_state = feed_state
        self.bus = bus
        self.secret_key = secret_key
        self.heartbeat = heartbeat
        self.settings = settings
        self.owner = owner
        self.progress = DeliveryProgress(db)
        self.heads: dict[str, Head] = {}  # each key used by its subscription's one turn at a time
        self.delivered = 0
        self.failing_since: float | None = None
        self.waiting_since: float | None = None  # for a rebuild to finish refilling the feeds

    def run(self, stop: threading.Event) -> None:
        pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="webhook")
        schedule = Schedule()
        turns: dict[str, tuple[Future, int]] = {}  # running turns, and the feed's end when each began
        subscriptions: list[WebhookSubscription] = []
        listed_at, feed_end = 0.0, 0
        try:
            while not stop.is_set():
                if time.monotonic() - listed_at >= LIST_EVERY_S:
                    subscriptions, listed_at = self.listed(subscriptions), time.monotonic()
                if subscriptions:  # without any, the feeds' end is no one's business (it was 20 reads a second)
                    feed_end = self.read_feed_end(feed_end)
                for subscription in subscriptions if feed_end is not None else ():
                    if subscription.id not in turns and schedule.is_due(subscription.id, feed_end):
                        turns[subscription.id] = pool.submit(self.turn, subscription, stop), feed_end
                for subscription_id, (turn, feed_end_at_start) in list(turns.items()):
                    if turn.done():
                        del turns[subscription_id]
                        schedule.after_turn(subscription_id, self.pause_after(subscription_id, turn), feed_end_at_start)
                self.heartbeat.beat(
                    delivered=self.delivered,
                    subscriptions=len(subscriptions),
                    failing_since=self.failing_since,
                    waiting_since=self.waiting_since,
                )
                stop.wait(TICK_S)
        finally:
            pool.shutdown(wait=True)
            self.release()

    def release(self) -> None:
        try:
            self.progress.release(self.owner)
        except Exception as exc:  # MongoDB gone: the leases run out by themselves
            log.warning("leases of %s not released: %s", self.owner, exc)

    def listed(self, known: list[WebhookSubscription]) -> list[WebhookSubscription]:
        try:
            return webhook_subscriptions(self.db)
        except Exception as exc:  # MongoDB unreachable: go on with the ones known, and say so
            log.warning("webhook subscriptions could not be listed: %s", exc)
            self.failing_since = self.failing_since or time.time()
            return known

    def read_feed_end(self, known: int | None) -> int | None:
        """The feeds' end, None while a rebuild refills them; `known` when it cannot be read."""
        try:
            state = self.feed_state()
        except Exception as exc:  # MongoDB unreachable: the turns will say so too
            log.warning("the event feeds' state could not be read: %s", exc)
            return known
        if state is None and self.waiting_since is None:
            log.warning("a rebuild is refilling the event feeds: deliveries wait for it to finish")
        self.waiting_since = (self.waiting_since or time.time()) if state is None else None
        return None if state is None else state[0]

    def pause_after(self, subscription_id: str, turn: Future) -> float | None:
        try:
            pause = turn.result()
        except Exception:  # MongoDB or the event store failing: that subscription tries again later
            log.exception("delivering to subscription %s failed; trying again", subscription_id)
            self.failing_since = self.failing_since or time.time()
            return RETRY_S
        self.failing_since = None
        return pause

    def turn(self, subscription: WebhookSubscription, stop: threading.Event) -> float | None:
        """Deliver what is next for the subscription, up to a batch: the replays asked for first, then the feed.
        How long to wait before its next turn; None when it has caught up with its feed."""
        cursor = self.progress.cursor(subscription.id)
        if cursor is None:
            cursor = self.progress.start(subscription.id, start_of(self.db, subscription))
        if not self.progress.claim(subscription.id, self.owner):
            return LIST_EVERY_S  # another replica delivers it
        replays = self.progress.replays(subscription.id, BATCH)
        if replays:
            return self.replay(subscription, replays, stop)
        return self.follow_feed(subscription, cursor, stop)

    def replay(self, subscription: WebhookSubscription, replays: list[dict], stop: threading.Event) -> float:
        for parked in replays:
            if stop.is_set():
                break
            if not still_enabled(self.db, subscription) or not self.progress.claim(subscription.id, self.owner):
                return LIST_EVERY_S
            if self.progress.waits_behind(parked):
                self.progress.keep_parked(parked, parked["attempts"], parked["error"])
                continue
            attempted = self.attempt(subscription, json.loads(parked["envelope"]))
            if attempted.retry_in is not None:
                return attempted.retry_in
            if attempted.delivered:
                self.progress.unpark(parked)
            else:
                self.progress.keep_parked(parked, attempted.attempts, attempted.error)
        return 0.0

    def follow_feed(self, subscription: WebhookSubscription, cursor: int, stop: threading.Event) -> float | None:
        before = self.feed_state()
        envelopes = self.read_feed(subscription.team, cursor, subscription.event_types, BATCH)
        after = self.feed_state()
        if before is None or after is None or after[1] != before[1]:
            # A rebuild refilled the feed around this read, which may have skipped what it had not refilled yet; the
            # next turn is given once the refill is over.
            return 0.0
        parked = self.progress.parked_aggregates(subscription.id) if envelopes else set()
        for envelope in envelopes:
            if stop.is_set():
                return 0.0
            if not still_enabled(self.db, subscription):
                return LIST_EVERY_S  # disabled during this batch: not one event more
            if not subscription.wants(envelope):
                pass
            elif envelope["aggregate_id"] in parked:
                self.progress.park(subscription.id, envelope, 0, WAITING)
            else:
                attempted = self.attempt(subscription, envelope)
                if attempted.retry_in is not None:
                    return attempted.retry_in
                if not attempted.delivered:
                    self.progress.park(subscription.id, envelope, attempted.attempts, attempted.error)
                    parked.add(envelope["aggregate_id"])
            if not self.progress.advance(subscription.id, self.owner, cursor, envelope["position"]):
                return 0.0  # a replay moved the cursor back, or the lease ran out: the next turn sees which
            cursor = envelope["position"]
        return 0.0 if len(envelopes) == BATCH else None

    def attempt(self, subscription: WebhookSubscription, envelope: dict) -> Attempted:
        head = self.heads.pop(subscription.id, None)
        attempts = head.attempts + 1 if head and head.event_id == envelope["event_id"] else 1
        secret = webhook_secret(self.secret_key, subscription.id)
        with WEBHOOK_SECONDS.time():
            error = post_event(subscription.url, subscription.id, secret, envelope, self.settings.timeout_s)
        if error is None:
            WEBHOOK_ATTEMPTS.labels("delivered").inc()
            self.delivered_one(subscription, envelope, attempts)
            return Attempted(True, attempts)
        log.warning(
            "delivering %s to subscription %s failed (%s), attempt %d of %d",
            envelope["event_id"],
            subscription.id,
            error,
            attempts,
            self.settings.attempts,
        )
        self.progress.record_error(subscription.id, error)
        if attempts >= self.settings.attempts:
            WEBHOOK_ATTEMPTS.labels("parked").inc()
            return Attempted(False, attempts, error)
        WEBHOOK_ATTEMPTS.labels("failed").inc()
        self.heads[subscription.id] = Head(envelope["event_id"], attempts)
        return Attempted(False, attempts, error, min(self.settings.backoff_s * 2 ** (attempts - 1), MAX_BACKOFF_S))

    def delivered_one(self, subscription: WebhookSubscription, envelope: dict, attempts: int) -> None:
        self.delivered += 1
        if subscription.channel_id is not None:
            message_id = envelope["data"]["message"]["id"]
            self.bus.handle(commands.RecordDelivery(envelope["aggregate_id"], message_id, True, attempts, None))
