"""The instants of a message's way that no event records, as `ocs.hops` log lines: when a worker took the message
from the broker and when the LLM finished (one line per reply); when the projector took a chunk of events and when
MongoDB acknowledged its writes to one collection (a line per collection written). With the events' own
`occurred_at` and the broker records' timestamps they time every hop; `bench/waterfall.py` joins them. Instants are
wall-clock seconds (`time.time()`), the clock every process of one machine shares. Silence them with the `ocs.hops`
logger's level.
"""

import logging
import time
from contextvars import ContextVar

hops_log = logging.getLogger("ocs.hops")

# When the consumer's poll (a worker's, the projector's) returned the records being handled; None outside a consumer
# (a reply within a request, a rebuild of the read models).
CONSUMED_AT: ContextVar[float | None] = ContextVar("consumed_at", default=None)


def log_reply(task_id: str, llm_done_at: float) -> None:
    """The worker's instants for one reply, logged once it is recorded (`consumed_at` None for a reply produced within
    its request: chat completions, the Responses API)."""
    hops_log.info(
        "reply timed",
        extra={"hops": {"task_id": task_id, "consumed_at": CONSUMED_AT.get(), "llm_done_at": llm_done_at}},
    )


def log_projected(collection: str, event_ids: list[str]) -> None:
    """The instant MongoDB acknowledged the writes of these events to one read-model collection: per collection,
    since a chunk's later writes (other collections, usage counters) can take longer than the hops before them.
    Only for events the projector consumed: a rebuild's instants time no message's way."""
    consumed_at = CONSUMED_AT.get()
    if consumed_at is not None:
        hops_log.info(
            "events projected",
            extra={
                "hops": {
                    "consumed_at": consumed_at,
                    "projected_at": time.time(),
                    "collection": collection,
                    "event_ids": event_ids,
                }
            },
        )
