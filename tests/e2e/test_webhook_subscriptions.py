"""Webhook subscriptions (`ocs admin create-subscription`): a receiver gets each of its team's events it subscribed
to, as the feed holds it, signed, in order per aggregate, at least once; a receiver that fails has its deliveries
retried, then parked (later events of the aggregate behind them) and replayed; a kill -9 of the delivery worker
loses nothing."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import ThreadingHTTPServer

import pytest
import requests

from infra.instance import instance_id
from projectors.feed import PROGRESS as FEED_PROGRESS
from projectors.feed import REFILLING
from schemas.errors import ApiError
from schemas.event_docs import WEBHOOK_RECEIVER
from tests.stack import Stack, eventually
from tests.webhook_receiver import WebhookReceiver, signature_is_valid


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


def subscribe(stack, tenant, url: str, events: str = "ChatSession.*") -> dict:
    return stack.admin(f"create-subscription --team {tenant.slug} --url {url} --events {events}")


def status_of(stack, subscription: dict) -> dict:
    (status,) = stack.admin(f"subscription-status --subscription {subscription['id']}")["subscriptions"]
    return status


def feed_events(tenant, types: str = "ChatSession.*") -> list[dict]:
    return tenant.client().get("/api/events/", params={"types": types, "limit": 1000}).json()["events"]


def delivered_all(receiver, tenant, types: str = "ChatSession.*") -> list[dict]:
    """The feed's events of `types`, once the receiver has every one of them (and the feed holds at least one)."""

    def all_there():
        expected = feed_events(tenant, types)
        received = {envelope["event_id"] for envelope in receiver.envelopes()}
        return expected if expected and {e["event_id"] for e in expected} <= received else None

    expected = eventually(all_there, timeout_s=30)
    assert expected, "the receiver is missing events of the feed"
    return expected


def in_aggregate_order(envelopes: list[dict]) -> bool:
    positions = defaultdict(list)
    for envelope in envelopes:
        positions[envelope["aggregate_id"]].append(envelope["position"])
    return all(found == sorted(found) for found in positions.values())


def session_activity(tenant) -> str:
    session = tenant.create_session()["id"]
    client = tenant.client()
    client.post(f"/api/sessions/{session}/tags/", json={"tags": ["vip"]})
    client.patch(f"/api/sessions/{session}/update_state/", json={"state": {"step": 2}})
    return session


def test_a_receiver_gets_its_teams_events_exactly_as_the_feed_holds_them_signed_and_in_order(stack, receiver):
    tenant, other = stack.new_tenant(), stack.new_tenant()
    subscription = subscribe(stack, tenant, receiver.url)
    for _ in range(3):
        session_activity(tenant)
        session_activity(other)
    expected = delivered_all(receiver, tenant)
    # Exactly the feed's envelopes (position included), each once (nothing failed or restarted here), in its
    # aggregate's order, no other team's, no other type.
    assert receiver.envelopes() == expected
    assert in_aggregate_order(receiver.envelopes())
    assert {envelope["team"] for envelope in receiver.envelopes()} == {tenant.slug}
    assert feed_events(tenant, "Subscription.*") == []  # its URL may hold the receiver's token
    for headers, body in receiver.received:
        assert signature_is_valid(subscription["secret"], headers, body)
        assert headers["Content-Type"] == "application/json"
        assert headers["X-OCS-Subscription-Id"] == subscription["id"]
        assert headers["X-OCS-Timestamp"].isdigit()
    assert [h["X-OCS-Event-Id"] for h, _ in receiver.received] == [e["event_id"] for e in receiver.envelopes()]
    status = status_of(stack, subscription)
    assert status["cursor"] >= expected[-1]["position"] and status["parked"] == [] and status["lag"] == 0
    assert status["held_by"] == instance_id()


def test_a_failing_receiver_is_retried_then_its_events_are_parked_in_order_and_replayed(stack, receiver):
    tenant = stack.new_tenant()
    subscription = subscribe(stack, tenant, receiver.url)
    receiver.failing = True
    stuck = tenant.create_session()["id"]
    # Retried: the stack's delivery worker tries each event 3 times before parking it.
    assert eventually(lambda: status_of(stack, subscription)["parked"], timeout_s=20)
    assert len(receiver.refused) == 3 and status_of(stack, subscription)["last_error"]["error"] == "HTTP 503"
    receiver.failing = False
    # A later event of the parked aggregate waits behind it; another aggregate's go on.
    tenant.client().post(f"/api/sessions/{stuck}/tags/", json={"tags": ["late"]})
    flowing = tenant.create_session()["id"]
    assert eventually(lambda: len(status_of(stack, subscription)["parked"]) == 2, timeout_s=20)
    assert eventually(lambda: any(e["aggregate_id"] == flowing for e in receiver.envelopes()), timeout_s=20)
    assert not any(envelope["aggregate_id"] == stuck for envelope in receiver.envelopes())
    parked = status_of(stack, subscription)["parked"]
    assert [(p["type"], p["attempts"]) for p in parked] == [("ChatSession.Created", 3), ("ChatSession.Tagged", 0)]
    assert parked[1]["error"].startswith("waiting behind")
    replayed = stack.admin(f"replay-subscription --subscription {subscription['id']}")
    assert replayed["parked_to_replay"] == 2
    expected = delivered_all(receiver, tenant)
    assert eventually(lambda: status_of(stack, subscription)["parked"] == [], timeout_s=20)
    stuck_ones = [e["type"] for e in receiver.envelopes() if e["aggregate_id"] == stuck]
    assert stuck_ones == ["ChatSession.Created", "ChatSession.Tagged"]
    assert sorted(e["event_id"] for e in receiver.first_deliveries()) == sorted(e["event_id"] for e in expected)


def test_a_receiver_that_does_not_answer_holds_up_no_other_subscription(stack, receiver):
    hanging = WebhookReceiver()
    hanging.released.clear()
    try:
        stuck_team, flowing_team = stack.new_tenant(), stack.new_tenant()
        subscribe(stack, stuck_team, hanging.url)
        subscribe(stack, flowing_team, receiver.url)
        session_activity(stuck_team)
        assert eventually(lambda: hanging.arrivals, timeout_s=20)
        session_activity(flowing_team)
        expected = delivered_all(receiver, flowing_team)
        assert receiver.first_deliveries() == expected and not hanging.received  # still held
    finally:
        hanging.stop()


def test_a_replay_from_a_cursor_delivers_the_feed_after_it_again(stack, receiver):
    tenant = stack.new_tenant()
    subscription = subscribe(stack, tenant, receiver.url)
    session_activity(tenant)
    expected = delivered_all(receiver, tenant)
    cursor = expected[0]["position"]
    stack.admin(f"replay-subscription --subscription {subscription['id']} --from {cursor}")
    assert eventually(lambda: len(receiver.received) == 2 * len(expected) - 1, timeout_s=20)
    assert receiver.envelopes()[len(expected) :] == expected[1:]


def test_disabled_subscriptions_get_nothing_more_and_every_subscription_is_listed(stack, receiver):
    tenant = stack.new_tenant()
    subscription = subscribe(stack, tenant, receiver.url, events="ChatSession.Created,ChatSession.Tagged")
    session_activity(tenant)
    assert [e["type"] for e in delivered_all(receiver, tenant, "ChatSession.Created,ChatSession.Tagged")] == [
        "ChatSession.Created",
        "ChatSession.Tagged",
    ]
    assert stack.admin(f"disable-subscription --subscription {subscription['id']}")["enabled"] is False
    (listed,) = stack.admin(f"list-subscriptions --team {tenant.slug}")["subscriptions"]
    assert listed == {**listed, "id": subscription["id"], "enabled": False, "url": receiver.url}
    before = len(receiver.received)
    session = session_activity(tenant)
    assert eventually(lambda: feed_events(tenant, "ChatSession.Tagged")[-1]["aggregate_id"] == session)
    # Bounded: the worker lists subscriptions every second; a delivery would come well within these 3 s.
    assert not eventually(lambda: len(receiver.received) > before, timeout_s=3)


def test_deliveries_wait_while_a_rebuild_refills_the_feed_and_then_go_on(stack, receiver):
    tenant = stack.new_tenant()
    subscribe(stack, tenant, receiver.url)
    session_activity(tenant)
    before = len(delivered_all(receiver, tenant))
    # As `rebuild-read-models` says it refills the feeds (projectors/rebuild.py), without the rebuild.
    progress = stack.system.db[FEED_PROGRESS]
    progress.update_one({"_id": REFILLING}, {"$set": {"refilling": True}}, upsert=True)
    try:
        session_activity(tenant)
        assert eventually(lambda: len(feed_events(tenant)) == 2 * before, timeout_s=20)
        # Bounded: a delivery would come within a tick (0.05 s) of the feed growing.
        assert not eventually(lambda: len(receiver.received) > before, timeout_s=2)
    finally:
        progress.update_one({"_id": REFILLING}, {"$set": {"refilling": False}})
    expected = delivered_all(receiver, tenant)
    assert receiver.first_deliveries() == expected
    stack.admin("rebuild-read-models")
    session_activity(tenant)
    assert eventually(lambda: len(feed_events(tenant)) == 3 * before, timeout_s=20)
    expected = delivered_all(receiver, tenant)
    assert receiver.first_deliveries() == expected


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ("--url ftp://example.com/hook", "is not an http or https URL"),
        ("--url http://", "is not an http or https URL"),
        ("--url http://example.com:99999/", "is not a URL"),
        (f"--url https://example.com/{'x' * 2000}", "at most 2000 characters"),
        ("--url https://example.com/ --events ChatSession.Nope", "is no event type"),
        ("--url https://example.com/ --events Nothing.*", "is no event type"),
    ],
)
def test_subscriptions_refuse_what_cannot_be_delivered(stack, tenant, options, error):
    with pytest.raises(ApiError, match=error):
        stack.admin(f"create-subscription --team {tenant.slug} {options}")


def test_a_team_has_at_most_twenty_subscriptions_disabled_ones_included(stack, tenant, receiver):
    created = [subscribe(stack, tenant, receiver.url) for _ in range(20)]
    for subscription in created:  # and they cost the shared stack's delivery worker nothing more
        stack.admin(f"disable-subscription --subscription {subscription['id']}")
    with pytest.raises(ApiError, match="the most it may have"):
        subscribe(stack, tenant, receiver.url)


@pytest.fixture
def stack_without_delivery(tmp_path):
    """A stack whose delivery worker is a process of its own (`ocs run delivery`), for a test to kill."""
    running = Stack(tmp_path).start(delivery=False)
    yield running
    running.stop()


def delivery_process(stack: Stack, instance: str = "delivery") -> subprocess.Popen:
    """`ocs run delivery` as the replica `instance`."""
    settings = stack.settings()
    environment = {
        **os.environ,
        "OCS_INSTANCE_ID": instance,
        "OCS_EVENT_STORE_URL": settings.event_store_url,
        "OCS_MONGO_URL": settings.mongo_url,
        "OCS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "OCS_SECRET_KEY": settings.secret_key,
    }
    command = [sys.executable, "-m", "infra.wiring.cli", "run", "delivery", "--data-dir", str(stack.root)]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("sessions", "kills"), [(8, 1), pytest.param(40, 4, marks=pytest.mark.slow)], ids=["once", "soak"]
)
def test_a_kill_9_of_the_delivery_worker_mid_run_loses_nothing(stack_without_delivery, sessions, kills):
    stack = stack_without_delivery
    receiver = WebhookReceiver(delay_s=0.05)  # slow enough to be killed mid-run
    tenant = stack.new_tenant()
    subscription = subscribe(stack, tenant, receiver.url)
    for _ in range(sessions):
        session_activity(tenant)
    assert eventually(lambda: len(feed_events(tenant)) == 3 * sessions, timeout_s=60)
    worker = delivery_process(stack)
    killed_at = []
    try:
        for kill in range(1, kills + 1):
            # Each kill lands mid-run: after a few more deliveries, well before the last.
            assert eventually(lambda k=kill: len(receiver.received) >= 5 * k, timeout_s=60)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            killed_at.append(len(receiver.first_deliveries()))
            worker = delivery_process(stack)
        expected = delivered_all(receiver, tenant)
    finally:
        worker.kill()
        worker.wait()
        receiver.stop()
    assert killed_at[-1] < len(expected), "the worker was killed after its work was done"
    assert receiver.first_deliveries() == expected
    assert in_aggregate_order(receiver.first_deliveries())
    assert all(signature_is_valid(subscription["secret"], h, b) for h, b in receiver.received)


def test_replicas_never_deliver_an_event_twice_and_take_over_from_one_that_stops(stack_without_delivery):
    stack = stack_without_delivery
    teams = [stack.new_tenant() for _ in range(4)]
    receivers = [WebhookReceiver() for _ in teams]
    for tenant, receiver in zip(teams, receivers, strict=True):
        subscribe(stack, tenant, receiver.url)
    replicas = [delivery_process(stack, f"delivery-{n}") for n in (1, 2)]
    # Both are running (a SIGTERM before a replica has started would find no handler yet).
    beats = stack.system.db["heartbeats"]
    assert eventually(
        lambda: beats.count_documents({"_id": {"$in": ["delivery@delivery-1", "delivery@delivery-2"]}}) == 2
    )

    def each_event_arrives_once():
        for tenant in teams:
            session_activity(tenant)
        for tenant, receiver in zip(teams, receivers, strict=True):
            expected = delivered_all(receiver, tenant)
            assert receiver.envelopes() == expected  # one replica at a time holds each subscription

    try:
        each_event_arrives_once()
        # A replica that stops lets go of its subscriptions: the other goes on with them at once.
        replicas[0].send_signal(signal.SIGTERM)
        assert replicas[0].wait(30) == 0
        each_event_arrives_once()
    finally:
        for replica in replicas:
            replica.kill()
            replica.wait()
        for receiver in receivers:
            receiver.stop()


def test_the_receiver_of_docs_events_md_verifies_signatures_and_handles_each_event_once(stack, tenant):
    handled = []
    example = {"__name__": "receiver_example"}
    exec(WEBHOOK_RECEIVER, example)  # as docs/events.md shows it
    server = ThreadingHTTPServer(("127.0.0.1", 0), example["Receiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:
        subscription = subscribe(stack, tenant, url)
        example.update(SECRET=subscription["secret"], handle=handled.append)
        session_activity(tenant)
        expected = eventually(lambda: len(handled) == 3 and feed_events(tenant), timeout_s=20)
        assert handled == expected
        # Everything again, from before the first: the receiver handles none of it twice.
        stack.admin(f"replay-subscription --subscription {subscription['id']} --from {expected[0]['position'] - 1}")
        assert eventually(lambda: status_of(stack, subscription)["cursor"] == expected[-1]["position"], timeout_s=20)
        assert handled == expected
        forged = requests.post(url, data=b"{}", headers={"X-OCS-Timestamp": str(int(time.time()))})
        assert forged.status_code == 401
    finally:
        server.shutdown()
        server.server_close()
