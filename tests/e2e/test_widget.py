"""The published OCS chat widget (npm `open-chat-studio-widget` 0.6.0), embedded in a page on another
origin, chatting through this server in headless Chromium. The page's context must reach the prompt."""

import json
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, website
from tests.stack import eventually

WIDGET_DIST = (
    Path(__file__).parent / "widget" / "node_modules" / "open-chat-studio-widget" / "dist" / "open-chat-studio-widget"
)
playwright = require_chromium()
if not WIDGET_DIST.exists():
    pytest.skip(
        "the widget is not installed: `make test` runs npm install in tests/e2e/widget", allow_module_level=True
    )

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Widget X</title>
<script type="module" src="/widget/open-chat-studio-widget.esm.js"></script></head>
<body><h1>Premium Widget X</h1>
<open-chat-studio-widget api-base-url="{api}" chatbot-id="{chatbot}" embed-key="{embed_key}" visible="true"
  persistent-session="false"></open-chat-studio-widget>
<script>
  customElements.whenDefined("open-chat-studio-widget").then(() => {{
    document.querySelector("open-chat-studio-widget").pageContext = {page_context};
  }});
</script></body></html>"""


@pytest.fixture
def page_server(tmp_path):
    """A website on its own origin, embedding the widget served from the npm package."""
    (tmp_path / "widget").symlink_to(WIDGET_DIST)
    with website(tmp_path) as site:
        yield tmp_path, site


def test_widget_chats_through_this_server_and_page_context_reaches_the_prompt(stack, fake_llm, page_server):
    root, site = page_server
    tenant = stack.new_tenant(
        prompt="You help shoppers looking at {session_state.remote_context.product} "
        "({session_state.remote_context.sku}).",
        llm_base_url=fake_llm.base_url,
    )
    widget = tenant.widget("embed_key", domains=("127.0.0.1",))
    (root / "index.html").write_text(
        PAGE.format(
            api=stack.base_url,
            chatbot=tenant.chatbot_id,
            embed_key=widget["embed_key"],
            page_context=json.dumps({"product": "Premium Widget X", "sku": "WX-1"}),
        )
    )
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{site}/index.html")
            textarea = page.locator("open-chat-studio-widget textarea.message-textarea")
            textarea.wait_for(timeout=20_000)
            eventually(lambda: textarea.is_enabled(), timeout_s=20)
            textarea.fill("Is this one waterproof?")
            textarea.press("Enter")
            reply = page.locator(
                "open-chat-studio-widget .message-bubble-assistant", has_text="echo: Is this one waterproof?"
            )
            reply.wait_for(timeout=30_000)
        finally:
            browser.close()

    (request,) = fake_llm.requests_containing("Is this one waterproof?")
    assert request["messages"][0] == {
        "role": "system",
        "content": "You help shoppers looking at Premium Widget X (WX-1).",
    }
