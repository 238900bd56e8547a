"""On a running stack the relay removes the records every group has read (`infra.kafka_retention`; here with a
window of 0), and chat goes on as before: every message is answered, also after the records went."""

from dataclasses import replace

from kafka import KafkaConsumer, TopicPartition

from schemas.events import TOPICS
from tests.stack import ChatClient, Stack, eventually

SESSIONS = TOPICS["ChatSession"]


class StackKeepingNothingRead(Stack):
    def settings(self):
        return replace(super().settings(), kafka_retention_ms=0)


def removed_records(bootstrap: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, allow_auto_create_topics=False)
    try:
        partitions = [TopicPartition(SESSIONS, p) for p in consumer.partitions_for_topic(SESSIONS) or ()]
        return sum(consumer.beginning_offsets(partitions).values())
    finally:
        consumer.close()


def test_read_records_go_while_every_message_is_answered(tmp_path, fake_llm):
    stack = StackKeepingNothingRead(tmp_path).start()
    try:
        tenant = stack.new_tenant(llm_base_url=fake_llm.base_url)
        chats = [ChatClient(stack.base_url) for _ in range(4)]
        for chat in chats:
            chat.start(tenant.chatbot_id)
        for round_ in range(3):
            tasks = [(chat, chat.say(f"round {round_}")) for chat in chats]
            assert all(chat.reply_to(task)["status"] == "complete" for chat, task in tasks)
        assert eventually(lambda: removed_records(stack.kafka.bootstrap) > 0, timeout_s=30)
        # The relay and the consumers go on from the records kept (each partition's last one, at least).
        tasks = [(chat, chat.say("after")) for chat in chats]
        assert all(chat.reply_to(task)["status"] == "complete" for chat, task in tasks)
    finally:
        stack.stop()
