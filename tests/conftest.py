import pytest

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
