"""The chat page (issue 17) in headless Chromium, against the real servers and a fake LLM that streams word by word:
a session starts with the page context typed into the page, a reply grows on the page while the provider still
holds its last word back, and Stop ends the next reply where it got to. No timing threshold: only the order of
events."""

import uuid

import pytest

from query_api.http import streams
from tests.browser import headless_chromium, require_chromium
from tests.fake_llm import FakeLlm

playwright = require_chromium()
expect = playwright.expect
# A reply waits on the worker and the read model, on machines that run other tests too: 20 s, not playwright's 5.
expect.set_options(timeout=20_000)

QUESTION = "Will the jacket keep me dry?"
REPLY = (
    "Yes: the Trail Jacket has taped seams and a waterproof membrane, so it keeps you dry in heavy rain for hours, "
    "and its hood folds into the collar when the sun comes back out."
)
GROWING = ".message.assistant.generating .text"


@pytest.fixture
def slow_llm():
    """Streams REPLY a word every 0.15 s; until `release_last_token()`, a reply's last word is held back."""
    fake = FakeLlm(reply=lambda request: REPLY, token_delay_s=0.15).start()
    fake.hold_last_token = True
    yield fake
    fake.release_last_token()
    fake.stop()


@pytest.fixture
def page():
    with headless_chromium(playwright) as chromium:
        page = chromium.new_page(viewport={"width": 900, "height": 1100})
        page.set_default_timeout(20_000)
        yield page


def open_demo(page, stack, chatbot_id: str) -> list[str]:
    """The chat page of `chatbot_id`, opened; what the page reports as broken is collected in the list returned."""
    problems = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.on(
        "request",
        lambda request: request.url.startswith((stack.base_url, "data:")) or problems.append(f"left: {request.url}"),
    )
    page.goto(f"{stack.base_url}/demo/{chatbot_id}")
    expect(page.locator("#chatbot-id")).to_have_text(chatbot_id)
    return problems


def start(page, context: str) -> None:
    page.fill("#page-context", context)
    page.click("#start")


def test_a_reply_grows_word_by_word_on_the_page_and_stop_ends_the_next_one(stack, slow_llm, page, tmp_path):
    tenant = stack.new_tenant(prompt="You sell {session_state.page_context.product}.", llm_base_url=slow_llm.base_url)
    problems = open_demo(page, stack, tenant.chatbot_id)

    start(page, '{"product": "Trail Jacket"')
    expect(page.locator("#error")).to_contain_text("not valid JSON")
    start(page, '["Trail Jacket"]')
    expect(page.locator("#error")).to_contain_text("must be a JSON object")
    start(page, '{"product": "Trail Jacket"}')
    expect(page.locator("#session-status")).to_contain_text('page context {"product":"Trail Jacket"}')
    expect(page.locator("#error")).to_be_empty()

    page.fill("#message", QUESTION)
    page.press("#message", "Enter")
    expect(page.locator(".message.user .text")).to_have_text(QUESTION)
    page.wait_for_function(f"() => document.querySelector('{GROWING}')?.textContent.length > 0")
    first = page.text_content(GROWING)
    page.wait_for_function(f"n => document.querySelector('{GROWING}').textContent.length > n", arg=len(first))
    later = page.text_content(GROWING)
    # Both read while the provider still held its last word: the reply grew on the page before it was stored.
    assert not slow_llm.last_token_released.is_set()
    assert REPLY.startswith(first) and REPLY.startswith(later) and len(first) < len(later) < len(REPLY)
    assert page.locator(".message.assistant.stored").count() == 0
    expect(page.locator("#stop")).to_be_visible()
    # Until the provider has sent all but its last word, for a picture of a reply well under way.
    page.wait_for_function(f"n => document.querySelector('{GROWING}').textContent.length >= n", arg=REPLY.rindex(" "))
    page.screenshot(path=tmp_path / "demo.png")

    slow_llm.release_last_token()
    stored = page.locator(".message.assistant.stored")
    expect(stored.locator(".text")).to_have_text(REPLY)
    expect(page.locator(".message.assistant")).to_have_count(1)  # the stored reply took the growing one's place
    expect(page.locator("#stop")).to_be_hidden()
    # The page context typed into the page reached the prompt.
    (asked,) = slow_llm.requests_containing(QUESTION)
    assert asked["messages"][0] == {"role": "system", "content": "You sell Trail Jacket."}

    page.fill("#message", "And in snow?")
    page.click("#send")
    page.wait_for_function(f"() => document.querySelector('{GROWING}')?.textContent.length > 0")
    page.click("#stop")
    stopped = page.locator(".message.assistant.cancelled")
    expect(stopped.locator(".state")).to_have_text("(stopped)")
    cut = stopped.locator(".text").text_content()
    assert REPLY.startswith(cut) and 0 < len(cut) < len(REPLY)
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()
    page.screenshot(path=tmp_path / "demo-stopped.png", full_page=True)
    assert problems == []


def test_a_newcomers_echo_chatbot_answers_on_the_page_one_message_after_another(stack, tenant, page):
    """The README's first chatbot (`--provider echo`) answers at once: a reply may be stored before the page has
    its task id, and the page is ready for the next message all the same."""
    problems = open_demo(page, stack, tenant.chatbot_id)
    start(page, page.input_value("#page-context"))  # the page's own example context
    for number, text in enumerate(("Hello there", "Is it in stock?", "Thanks!"), start=1):
        page.fill("#message", text)
        page.click("#send")
        expect(page.locator(".message.assistant.stored")).to_have_count(number)
        expect(page.locator(".message.assistant.stored .text").last).to_have_text(text)
        expect(page.locator("#send")).to_be_enabled()
        expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator(".message.user .text")).to_have_text(["Hello there", "Is it in stock?", "Thanks!"])
    assert problems == []


def test_the_page_follows_the_conversation_across_the_streams_the_server_closes(stack, tenant, page, monkeypatch):
    # The stack's API runs in this process: its streams close after a second instead of five minutes.
    monkeypatch.setattr(streams, "STREAM_MAX_S", 1)
    monkeypatch.setattr(streams, "STREAM_KEEPALIVE_S", 0.2)
    problems = open_demo(page, stack, tenant.chatbot_id)
    start(page, "{}")
    page.fill("#message", "first")
    page.click("#send")
    expect(page.locator(".message.assistant.stored .text")).to_have_text(["first"])
    # Reopened from the last message the page has, as EventSource would be.
    with page.expect_request(lambda request: "/stream/" in request.url and "last-event-id" in request.headers):
        pass
    page.fill("#message", "second")
    page.click("#send")
    expect(page.locator(".message.assistant.stored .text")).to_have_text(["first", "second"])
    expect(page.locator(".message.user .text")).to_have_text(["first", "second"])  # nothing told twice
    assert problems == []


def test_the_page_shows_why_a_session_cannot_start(stack, page):
    open_demo(page, stack, str(uuid.uuid4()))  # no such chatbot
    start(page, "{}")
    expect(page.locator("#error")).to_contain_text("The session could not start (404: ")
    expect(page.locator("#send")).to_be_disabled()


def test_the_page_shows_why_a_reply_failed(stack, page):
    failing = FakeLlm().start()
    try:
        failing.fail_next(stack.settings().llm_attempts)  # every attempt the worker makes at the reply
        tenant = stack.new_tenant(llm_base_url=failing.base_url)
        open_demo(page, stack, tenant.chatbot_id)
        start(page, "{}")
        expect(page.locator("#session-status")).to_contain_text("Session ")
        page.fill("#message", "Hello?")
        page.click("#send")
        expect(page.locator("#error")).to_contain_text("The chatbot could not reply (500: ")
        expect(page.locator("#stop")).to_be_hidden()
        expect(page.locator("#send")).to_be_enabled()
    finally:
        failing.stop()
