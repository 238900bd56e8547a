"""SIGTERM stops each process of the stack gracefully: a worker finishes the replies it started, commits
their offsets and leaves the rest for its successor; the API answers the requests it is serving; every
process exits 0 promptly. Each part is its own `ocs run` process, started as `ocs up` starts it, on local
servers and a data dir of the test's own, with a chatbot whose LLM takes a while to answer."""

import json
import signal
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from infra.config import STACK_FILE
from infra.kafka import EnvelopeJson
from infra.wiring.local_servers import free_port, terminate
from infra.wiring.stack import PROCESSES, start_process, wait_until_healthy
from schemas.events import TOPICS
from tests.fake_llm import FakeLlm
from tests.stack import ChatClient, Stack, eventually

HOST = "127.0.0.1"
# Long enough to send SIGTERM while every call is surely in flight, short enough for the default run.
LLM_DELAY_S = 1.5
CONCURRENT_MESSAGES = 4
# A stopped process has this long to finish its work and exit.
EXIT_BOUND_S = 30
# Idle, or with nothing but an LLM call to wait for, a stop takes a few seconds at most.
PROMPT_EXIT_S = LLM_DELAY_S + 5
WORKER_GROUP = "ocs-workers"


class Processes:
    """The stack's processes on one data dir, each an `ocs run` child process as `ocs up` starts it."""

    def __init__(self, root: Path, port: int):
        self.root = root
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, *names: str) -> None:
        for name in names:
            self.running[name] = start_process(name, self.root, HOST, self.port)

    def none_exited(self) -> None:
        exited = {name: process.returncode for name, process in self.running.items() if process.poll() is not None}
        assert not exited, f"exited while the stack started (see logs/): {exited}"

    def stop(self, name: str) -> tuple[int, float]:
        """SIGTERM one process and wait for it: (its exit code, the seconds it took to exit)."""
        process = self.running[name]
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(EXIT_BOUND_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} still runs {EXIT_BOUND_S}s after SIGTERM (the fixture kills it)")
        del self.running[name]
        return code, time.monotonic() - sent

    def terminate_all(self) -> None:
        for process in self.running.values():
            process.terminate()  # all first, so that they stop side by side
        for process in self.running.values():
            terminate(process)


@pytest.fixture
def slow_llm():
    server = FakeLlm(delay_s=LLM_DELAY_S).start()
    yield server
    server.stop()


@pytest.fixture
def process_stack(tmp_path):
    """(this test's Kafka and MongoDB servers, also serving admin commands and reads of the event store;
    the stack's processes on their data dir, which find the servers in its stack file as under `ocs up`)."""
    servers = Stack(tmp_path)
    processes = Processes(tmp_path, free_port())
    try:
        servers.start_servers()
        local = {"kafka_bootstrap": servers.kafka.bootstrap, "mongo_url": servers.mongo.url}
        (tmp_path / STACK_FILE).write_text(json.dumps(local))
        (tmp_path / "logs").mkdir()
        (tmp_path / "metrics").mkdir()
        processes.start(*PROCESSES)
        wait_until_healthy(processes.base_url + "/", processes.none_exited, timeout_s=60)
        servers.base_url = processes.base_url  # the clients of Tenant and ChatClient talk to the API process
        yield servers, processes
    finally:
        processes.terminate_all()
        servers.stop()


def answers(stack: Stack) -> Counter:
    """How many answers (a reply or a failure) each task has in the event store."""
    return Counter(
        envelope["data"]["task_id"]
        for envelope in stack.system.app.all_envelopes()
        if envelope["type"] in ("ChatSession.ReplyRecorded", "ChatSession.ReplyFailed")
    )


def message_offsets(bootstrap: str) -> dict[str, tuple[TopicPartition, int]]:
    """Where each chat message's event lies in Kafka: task id -> (partition, offset)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, value_deserializer=EnvelopeJson())
    try:
        topic = TOPICS["ChatSession"]
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        found = {}
        deadline = time.monotonic() + 30
        while any(consumer.position(p) < ends[p] for p in partitions):
            assert time.monotonic() < deadline, "could not read the chat sessions' topic"
            for partition, records in consumer.poll(timeout_ms=100).items():
                for record in records:
                    if record.value["type"] == "ChatSession.UserMessageSubmitted":
                        found[record.value["data"]["task_id"]] = (partition, record.offset)
        return found
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {partition: meta.offset for partition, meta in admin.list_group_offsets(group)[group].items()}
    finally:
        admin.close()


def test_a_stopped_worker_finishes_the_replies_it_started_commits_them_and_leaves_the_rest(process_stack, slow_llm):
    stack, processes = process_stack
    chatbot = stack.new_tenant(llm_base_url=slow_llm.base_url).chatbot_id
    chats = [ChatClient(stack.base_url) for _ in range(CONCURRENT_MESSAGES)]
    started = []
    for n, chat in enumerate(chats):
        chat.start(chatbot)
        started.append(chat.say(f"question {n}"))
    assert eventually(lambda: len(slow_llm.requests) == CONCURRENT_MESSAGES, timeout_s=20), "not all in flight"
    # Waits behind its session's first message, which is in flight: the stopping worker must not start it.
    queued = chats[0].say("follow-up")
    time.sleep(0.2)  # time to reach the worker, which holds it back
    assert not answers(stack), "the LLM answered before the stop: nothing was in flight"

    code, seconds = processes.stop("worker")
    print(f"worker: exit code {code} after {seconds:.2f}s with {CONCURRENT_MESSAGES} LLM calls in flight")
    assert code == 0
    assert seconds < PROMPT_EXIT_S
    assert answers(stack) == Counter(started), "each started message is answered once, before the worker exits"

    offsets = message_offsets(stack.kafka.bootstrap)
    committed = committed_offsets(stack.kafka.bootstrap, WORKER_GROUP)
    for task in started:
        partition, offset = offsets[task]
        assert committed[partition] > offset, "an answered message would be delivered again"
    # Everything before the follow-up is handled, the follow-up is not: its successor starts there.
    partition, offset = offsets[queued]
    assert committed[partition] == offset, "the unanswered follow-up would be skipped"

    while_down = chats[1].say("sent while no worker runs")
    processes.start("worker")
    assert eventually(lambda: {queued, while_down} <= set(answers(stack)), timeout_s=30), "a message was lost"
    assert answers(stack) == Counter([*started, queued, while_down]), "a message was answered twice"
    assert len(slow_llm.requests) == CONCURRENT_MESSAGES + 2, "an answered message went to the LLM again"
    assert chats[0].reply_to(queued)["message"]["content"] == "echo: follow-up"


def test_a_stopped_api_answers_the_request_it_is_serving_then_exits(process_stack, slow_llm):
    stack, processes = process_stack
    tenant = stack.new_tenant(llm_base_url=slow_llm.base_url)
    completion = {"messages": [{"role": "user", "content": "a slow question"}]}
    with ThreadPoolExecutor(1) as pool:
        answering = pool.submit(
            tenant.client().post, f"/api/openai/{tenant.chatbot_id}/chat/completions", json=completion, timeout=30
        )
        assert eventually(lambda: slow_llm.requests_containing("a slow question"), timeout_s=20)
        code, seconds = processes.stop("api")
        response = answering.result()
    print(f"api: exit code {code} after {seconds:.2f}s, its request in flight answered {response.status_code}")
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "echo: a slow question"
    assert code == 0
    assert seconds < PROMPT_EXIT_S


def test_an_idle_relay_projector_and_worker_exit_promptly(process_stack):
    _, processes = process_stack
    for name in ("relay", "projector", "worker"):
        code, seconds = processes.stop(name)
        print(f"{name}: exit code {code} after {seconds:.2f}s")
        assert code == 0, name
        assert seconds < PROMPT_EXIT_S, name
