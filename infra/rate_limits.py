"""Rate limits (SPEC §1.8): fixed windows counted in MongoDB through the `limits` library, so every API
process shares one count. Enforcement is a setting, off by default as in OCS: over-limit requests are
then only logged, while every throttled response still carries the `X-RateLimit-*` headers.

| bucket | default | counted per |
|---|---|---|
| `api` | 2000 / 5 min | team |
| `chat_api` | 300 / 5 min | chat session; a start: the widget channel, else the client's address |
| `credentials` | 100 / 5 min | client address; only failed credential presentations count |
"""

import logging
import math
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app, g, request
from limits import parse, storage
from pymongo import UpdateOne
from pymongo.collection import Collection

from schemas.errors import ApiError

log = logging.getLogger(__name__)

DEFAULT_RATES = {"api": "2000/5minute", "chat_api": "300/5minute", "credentials": "100/5minute"}
EXTENSION = "ocs.rate_limits"


# Window ends remembered per process (see `RateLimits.window_end`); beyond this many keys, start afresh.
MAX_REMEMBERED_WINDOWS = 50_000
# Only logging, each process adds its requests to the shared counters this often.
FLUSH_EVERY_S = 1.0


class RateLimits:
    """Fixed windows (the library's fixed-window strategy, on its storage), shared by every process.

    Enforcing, each request is added to its shared counter before it is admitted: one increment in MongoDB.
    Only logging (the default), each process adds its requests to the shared counters in one batch every
    `FLUSH_EVERY_S`: the counts stay shared and are at most that far behind, and a busy API costs MongoDB one
    bulk write and one read per flush, however many counters moved (failed credentials are always counted at
    once). A window's end does not move once it has begun: enforcing, each process reads it once per window and
    key; only logging, it comes back with each flush.
    (The library's `hit` plus `get_window_stats` cost three operations per request: about a third of the local
    MongoDB server's work under the chat benchmark.)"""

    def __init__(self, mongo_url: str, database: str, enforce: bool, rates: dict[str, str]):
        self.storage = storage.storage_from_string(mongo_url, database_name=database)
        self.enforce = enforce
        self.rates = {bucket: parse(rate) for bucket, rate in rates.items()}
        self.window_ends: dict[str, float] = {}
        self.lock = threading.Lock()
        self.pending: Counter[str] = Counter()  # requests not yet added to the shared counters
        self.expiries: dict[str, int] = {}  # each pending counter's window length
        self.shared: dict[str, int] = {}  # each recently counted counter's shared count, as last seen
        self.stopped = threading.Event()
        self.flusher: threading.Thread | None = None

    def close(self) -> None:
        """Add what is pending, then close the counters' client now: the library would otherwise close it
        from `__del__`, which at interpreter exit can hang (pymongo then starts threads to end sessions)."""
        self.stopped.set()
        if self.flusher is not None:
            self.flusher.join(5)
        self.storage.storage.close()

    def window_end(self, counter: str, expiry: int) -> float:
        now = time.time()
        end = self.window_ends.get(counter, 0.0)
        if end <= now and not self.enforce:
            # Only logging, the next flush reads the window's end with the count; until then this is its guess.
            self.window_ends[counter] = end = now + expiry
        elif end <= now:
            end = self.storage.get_expiry(counter)
            if end <= time.time():  # no window yet (the library answers "now"): it begins with this request
                return now + expiry
            if len(self.window_ends) >= MAX_REMEMBERED_WINDOWS:
                self.window_ends = {}
            self.window_ends[counter] = end
        return end

    def count(self, bucket: str, counter: str, expiry: int) -> int:
        """This request's place in its window."""
        if self.enforce or bucket == "credentials":
            return self.storage.incr(counter, expiry)
        with self.lock:
            self.pending[counter] += 1
            self.expiries[counter] = expiry
            if self.flusher is None:
                self.flusher = threading.Thread(target=self.flush_until_stopped, name="rate-limits", daemon=True)
                self.flusher.start()
            return self.shared.get(counter, 0) + self.pending[counter]

    def flush_until_stopped(self) -> None:
        while not self.stopped.wait(FLUSH_EVERY_S):
            self.flush()
        self.flush()

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, Counter()
            expiries, self.expiries = self.expiries, {}
        if not batch:
            return
        if len(self.shared) >= MAX_REMEMBERED_WINDOWS:
            self.shared = {}
        try:
            counted = add_counts(self.storage.counters, batch, expiries)
        except Exception as exc:
            log.warning("rate-limit counters unavailable, %d requests not counted: %s", sum(batch.values()), exc)
            return
        for counter, (count, window_end) in counted.items():
            self.shared[counter] = count
            self.window_ends[counter] = window_end

    def hit(self, bucket: str, key: str) -> None:
        """Count this request in the bucket; refuse it with 429 when over the limit and enforcing."""
        rate = self.rates[bucket]
        counter = rate.key_for(bucket, key)
        try:
            count = self.count(bucket, counter, rate.get_expiry())
            reset_in = max(math.ceil(self.window_end(counter, rate.get_expiry()) - time.time()), 0)
        except Exception as exc:
            log.warning("rate-limit counters unavailable: %s", exc)
            # Failed credentials are fail-closed when enforcing: guessing keys must stay slow.
            if self.enforce and bucket == "credentials":
                raise throttled(rate.get_expiry()) from None
            return
        allowed = count <= rate.amount
        g.rate_limit_headers = {
            "X-RateLimit-Limit": str(rate.amount),
            "X-RateLimit-Remaining": str(max(rate.amount - count, 0)),
            "X-RateLimit-Reset": str(reset_in),
        }
        if not allowed:
            log.warning("rate limit %s exceeded for %s", bucket, key)
            if self.enforce:
                raise throttled(reset_in, g.rate_limit_headers)


def add_counts(counters: Collection, hits: dict[str, int], expiries: dict[str, int]) -> dict[str, tuple[int, float]]:
    """Add many counters' hits in one bulk write, then read them back in one query: each counter's count and
    window end. The documents are the `limits` library's own (`count`, `expireAt`), updated as its `incr`
    updates them (a window that has ended starts again), so enforcing processes share these counts."""
    now = datetime.now(timezone.utc)
    restart = {"$lt": ["$expireAt", "$$NOW"]}
    counters.bulk_write(
        [
            UpdateOne(
                {"_id": counter},
                [
                    {
                        "$set": {
                            "count": {"$cond": [restart, amount, {"$add": ["$count", amount]}]},
                            "expireAt": {"$cond": [restart, now + timedelta(seconds=expiries[counter]), "$expireAt"]},
                        }
                    }
                ],
                upsert=True,
            )
            for counter, amount in hits.items()
        ],
        ordered=False,
    )
    return {
        doc["_id"]: (doc["count"], doc["expireAt"].replace(tzinfo=timezone.utc).timestamp())
        for doc in counters.find({"_id": {"$in": list(hits)}}, projection=["count", "expireAt"])
    }


def throttled(available_in: int, headers: dict | None = None) -> ApiError:
    """E7."""
    return ApiError(
        429,
        {"detail": "Rate limit exceeded.", "available_in": available_in},
        {**(headers or {}), "Retry-After": str(available_in)},
    )


def install(app: Flask, limits: RateLimits) -> None:
    app.extensions[EXTENSION] = limits

    @app.after_request
    def headers(response):
        for name, value in g.get("rate_limit_headers", {}).items():
            response.headers.setdefault(name, value)
        return response


def throttle(bucket: str, key: str) -> None:
    """Count the current request in a bucket (a no-op in an app without rate limits)."""
    limits = current_app.extensions.get(EXTENSION)
    if limits is not None:
        limits.hit(bucket, key)


def client_address() -> str:
    return request.remote_addr or "unknown"
