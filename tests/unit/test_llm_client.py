"""The LLM client keeps its connection to a provider: a streamed reply read to its end gives the connection back to
the pool, instead of costing every call a new TCP (and, with a real provider, TLS) handshake."""

from tests.fake_llm import FakeLlm
from workers.llm import LlmCall, LlmClients


def test_streamed_replies_share_one_connection():
    fake = FakeLlm().start()
    try:
        clients = LlmClients(timeout_s=5, attempts=1)
        call = LlmCall("openai", "m", fake.base_url, "k", [{"role": "user", "content": "one two three"}])
        replies = [clients.reply(call) for _ in range(5)]
        assert [reply.text for reply in replies] == ["echo: one two three"] * 5
        assert replies[0].usage == {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        assert fake.connections == 1
    finally:
        fake.stop()
