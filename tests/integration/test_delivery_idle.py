"""The webhook delivery worker reads the event feeds' end only while a subscription exists: without one it was a
MongoDB read every 50 ms, on every stack, for nothing."""

import time

from command_api import commands
from projectors.rebuild import rebuild
from tests.stack import eventually
from tests.write_model import new_team_with_chatbot


def test_the_feeds_end_is_read_only_while_a_subscription_exists(servers, background):
    system = servers.system
    rebuild(system.db, system.app.all_envelopes())
    delivery = system.delivery()
    reads = []
    feed_state = delivery.feed_state
    delivery.feed_state = lambda: reads.append(1) or feed_state()
    background.run(delivery)
    time.sleep(1.5)  # more than a listing of the subscriptions, and 30 ticks
    assert reads == []

    new_team_with_chatbot(system.bus, "hooked")
    system.bus.handle(
        commands.CreateSubscription(team="hooked", url="https://example.com/hook", event_types=("ChatSession.*",))
    )
    rebuild(system.db, system.app.all_envelopes())
    assert eventually(lambda: reads, timeout_s=5)
