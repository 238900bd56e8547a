import pytest

from tests.fake_llm import FakeLlm
from tests.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One running stack shared by the end-to-end tests; each test makes its own tenants."""
    running = Stack(tmp_path_factory.mktemp("stack")).start()
    yield running
    running.stop()


@pytest.fixture
def tenant(stack):
    return stack.new_tenant()


@pytest.fixture(scope="session")
def fake_llm():
    server = FakeLlm().start()
    yield server
    server.stop()


@pytest.fixture
def bot_tenant(stack, fake_llm):
    """A tenant whose chatbot answers through the fake LLM, with a prompt reading page context."""
    return stack.new_tenant(
        prompt="Help with {session_state.page_context.product} on {session_state.remote_context.page}.",
        llm_base_url=fake_llm.base_url,
    )
