"""The LLM worker's reply to a message is recorded exactly once, however often the event is delivered."""

import threading

import pytest

from command_api import commands
from schemas import events
from schemas.events import TOPICS
from tests.fake_llm import FakeLlm
from tests.stack import eventually
from tests.write_model import new_team_with_chatbot
from workers.llm import LlmClients
from workers.replies import ReplyProducer
from workers.reply_deltas import DeltaPublisher
from workers.runner import Worker


@pytest.fixture
def fake_llm():
    server = FakeLlm(delay_s=0.05).start()
    yield server
    server.stop()


@pytest.fixture
def submitted(servers, fake_llm):
    """A chat message on the write model, and the event the worker consumes for it."""
    system = servers.system
    bus = system.bus
    slug = f"worker-{threading.get_ident()}-{len(list(system.app.all_envelopes()))}"
    chatbot_id = new_team_with_chatbot(
        bus, slug, prompt="Be {session_state.mood}.", provider="openai", base_url=fake_llm.base_url, llm_api_key="k"
    )
    started = bus.handle(commands.StartChatSession(chatbot_id, None, None, "", None, None))
    session_id = str(started.session.id)
    bus.handle(commands.SubmitChatMessage(session_id, "hello", None, (), None))
    (envelope,) = [
        e
        for e in system.app.all_envelopes()
        if e["aggregate_id"] == session_id and e["type"] == events.CHAT_SESSION_USER_MESSAGE_SUBMITTED
    ]
    return system, envelope


def replies(system, session_id: str) -> list[dict]:
    return [
        e
        for e in system.app.all_envelopes()
        if e["aggregate_id"] == session_id and e["type"] == events.CHAT_SESSION_REPLY_RECORDED
    ]


def producer(system) -> ReplyProducer:
    llm = LlmClients(timeout_s=5, attempts=2)
    return ReplyProducer(system.app, system.bus, llm, DeltaPublisher(system.settings.kafka_bootstrap))


def test_a_redelivered_message_is_answered_once_and_the_llm_called_once(submitted, fake_llm):
    system, envelope = submitted
    worker = producer(system)
    worker.answer_submitted(envelope)
    worker.answer_submitted(envelope)
    assert len(replies(system, envelope["aggregate_id"])) == 1
    assert len(fake_llm.requests_containing("hello")) == 1


def test_two_workers_racing_on_one_message_record_one_reply(submitted, fake_llm):
    system, envelope = submitted
    racers = [threading.Thread(target=producer(system).answer_submitted, args=(envelope,)) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(10)
    (reply,) = replies(system, envelope["aggregate_id"])
    assert reply["data"]["message"]["content"] == "echo: hello"
    assert reply["data"]["task_id"] == envelope["data"]["task_id"]


def test_a_message_that_cannot_be_handled_ends_in_a_recorded_failure_not_a_hang(servers, background, submitted):
    system, envelope = submitted
    background.run(system.relay())
    given_up = []

    def always_failing(value):
        if value["event_id"] == envelope["event_id"]:
            raise OSError("event store unavailable")

    worker = Worker(
        system.settings.kafka_bootstrap,
        f"test-{envelope['event_id']}",
        [TOPICS["ChatSession"]],
        always_failing,
        lambda value, error: given_up.append((value["event_id"], repr(error))),
        4,
        system.beat("test-worker"),
        system.group_members("test-worker", f"test-{envelope['event_id']}"),
    )
    background.run(worker)
    assert eventually(lambda: given_up, timeout_s=30)
    assert given_up == [(envelope["event_id"], "OSError('event store unavailable')")]


def test_a_worker_with_all_its_slots_busy_takes_no_more_and_stays_in_its_group(servers, background, submitted):
    system, envelope = submitted
    chatbot_id = new_team_with_chatbot(system.bus, f"full-{envelope['event_id']}")
    for _ in range(6):  # more ChatSession events than the worker's four slots
        system.bus.handle(commands.StartChatSession(chatbot_id, None, None, "", None, None))
    background.run(system.relay())
    release, handled = threading.Event(), []

    def held(value):
        release.wait(30)
        handled.append(value["event_id"])

    worker = Worker(
        system.settings.kafka_bootstrap,
        f"test-full-{envelope['event_id']}",
        [TOPICS["ChatSession"]],
        held,
        lambda value, error: None,
        1,
        system.beat("test-worker"),
        system.group_members("test-worker", f"test-full-{envelope['event_id']}"),
    )
    background.run(worker)
    assert eventually(lambda: worker.consumer.paused(), timeout_s=30)
    assert worker.in_flight >= worker.max_in_flight
    assert worker.consumer.paused() == worker.consumer.assignment()
    release.set()
    assert eventually(lambda: not worker.consumer.paused() and worker.in_flight == 0, timeout_s=30)
    assert len(handled) == worker.handled >= 8
