"""A worker killed with kill -9 in the middle of streaming a reply (issue 17): `ocs up` restarts it, the message is
answered again from the start, and exactly one reply is stored; the stream's deltas start the reply afresh."""

import pytest

from tests.chat_load import kill_and_await_restart
from tests.e2e.test_streaming import Events, is_delta, is_reply
from tests.stack import ChatClient


@pytest.fixture
def fake_llm(slow_llm):
    """The stack's LLM streams each reply, holding back its last word until released."""
    return slow_llm


def test_a_worker_killed_mid_reply_leads_to_exactly_one_stored_reply(faulty_stack, fake_llm):
    data_dir, base_url, _, chatbot = faulty_stack
    chat = ChatClient(base_url)
    chat.start(chatbot)
    events = Events(base_url, chat)
    try:
        task_id = chat.say("tell me everything")
        events.until(is_delta, timeout_s=60)  # the worker is streaming, and holds before the last word
        assert kill_and_await_restart(data_dir, "run worker")
        fake_llm.release_last_token()
        _, stored = events.until(is_reply, timeout_s=90)
        assert stored["task_id"] == task_id and stored["content"] == "echo: tell me everything"
        assert chat.reply_to(task_id, timeout_s=30)["message"]["content"] == stored["content"]
        replies = [m for m in chat.poll()["messages"] if m["role"] == "assistant"]
        assert len(replies) == 1
        # The restarted worker generated it again from the first word (or the stream made the rest up from the
        # stored reply): whatever arrived, the deltas add up to it.
        told = ""
        for event, data in events.seen:
            if event == "delta":
                told = told[: data["offset"]] + data["delta"]
        assert told == stored["content"]
    finally:
        events.close()
