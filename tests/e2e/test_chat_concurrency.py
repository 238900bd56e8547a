"""Many widget users at once: every message gets exactly one reply, in order within its session."""

from concurrent.futures import ThreadPoolExecutor

from tests.stack import ChatClient, eventually

SESSIONS = 20
MESSAGES_PER_SESSION = 10


def test_200_messages_across_20_sessions_get_one_reply_each_in_order(stack, bot_tenant, fake_llm):
    def converse(n: int) -> ChatClient:
        chat = ChatClient(stack.base_url)
        chat.start(bot_tenant.chatbot_id)
        # Sent back to back, without waiting for replies: the worker must keep them in order.
        chat.task_ids = [chat.say(f"s{n}-m{m}") for m in range(MESSAGES_PER_SESSION)]
        return chat

    with ThreadPoolExecutor(SESSIONS) as pool:
        chats = list(pool.map(converse, range(SESSIONS)))

    for n, chat in enumerate(chats):
        assert eventually(lambda c=chat: len(c.poll()["messages"]) >= 2 * MESSAGES_PER_SESSION, timeout_s=60)
        messages = chat.poll()["messages"]
        replies = [m["content"] for m in messages if m["role"] == "assistant"]
        assert replies == [f"echo: s{n}-m{m}" for m in range(MESSAGES_PER_SESSION)]
        assert len(messages) == 2 * MESSAGES_PER_SESSION
        assert all(chat.task(task_id).json()["status"] == "complete" for task_id in chat.task_ids)
        # Each message reached the LLM once, after every earlier message of its session was answered.
        last = MESSAGES_PER_SESSION - 1
        assert all(len(fake_llm.requests_containing(f"s{n}-m{m}")) == MESSAGES_PER_SESSION - m for m in range(last + 1))
        (final_call,) = fake_llm.requests_containing(f"s{n}-m{last}")
        earlier = [turn for m in range(last) for turn in (("user", f"s{n}-m{m}"), ("assistant", f"echo: s{n}-m{m}"))]
        assert [(x["role"], x["content"]) for x in final_call["messages"][1:]] == earlier + [("user", f"s{n}-m{last}")]
