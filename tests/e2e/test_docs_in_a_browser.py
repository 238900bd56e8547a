"""The API documentation page in headless Chromium: Swagger UI, served by this server alone, shows v1's document and,
picked at the top, v2's."""

import pytest

from tests.browser import headless_chromium, require_chromium

playwright = require_chromium()


@pytest.fixture
def browser():
    with headless_chromium(playwright) as chromium:
        yield chromium


def operation(path: str) -> str:
    """Swagger UI's summary of an operation on `path`."""
    return f'.opblock-summary-path[data-path="{path}"]'


def test_the_docs_page_shows_v1_and_then_v2(stack, browser):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.base_url}/api/docs/")
    page.wait_for_selector(operation("/api/experiments/"), timeout=20_000)
    assert not page.query_selector(operation("/api/v2/me/"))
    page.select_option("select", label="v2")
    page.wait_for_selector(operation("/api/v2/me/"), timeout=20_000)
    for path in ("/api/v2/chatbots/", "/api/v2/chatbots/{id}/", "/api/v2/trigger_bot/"):
        assert page.query_selector(operation(path)), path
    assert not page.query_selector(operation("/api/experiments/"))
    assert errors == []
