"""How a consumer polls the local Kafka-protocol broker, which answers a fetch at once, records or not
(`infra.kafka.Poller`): a ring of its doorbell that came while it was busy makes its next poll wait for the fetch
that brings the records, rather than end empty after a millisecond on the answer the broker gave before them."""

import time

from infra.doorbells import Doorbell, Doorbells
from infra.kafka import POLL_TIMEOUT_MS, RUNG_POLL_TIMEOUT_MS, Poller, ensure_topics, make_consumer

JOIN_WITHIN_S = 30


def test_a_ring_that_came_while_busy_makes_the_next_poll_wait_for_records(kafka, tmp_path):
    ensure_topics(kafka, ["rung"], 8)
    consumer = make_consumer(kafka, "rung", ["rung"])
    doorbell = Doorbell(tmp_path, "consumer", "rung-1")
    relay = Doorbells(tmp_path, "consumer")
    poller = Poller(consumer, doorbell=doorbell)
    timeouts = []
    poll = consumer.poll
    consumer.poll = lambda timeout_ms: timeouts.append(timeout_ms) or poll(timeout_ms=timeout_ms)
    try:
        deadline = time.monotonic() + JOIN_WITHIN_S
        while not consumer.assignment() and time.monotonic() < deadline:
            poller.poll()
        assert consumer.assignment()
        poller.poll()
        timeouts.clear()
        relay.ring()  # while the consumer is busy elsewhere
        poller.poll()
        poller.poll()  # no ring since
        assert timeouts == [RUNG_POLL_TIMEOUT_MS, POLL_TIMEOUT_MS]
    finally:
        consumer.close()
        relay.close()
        doorbell.close()
