"""Headless Chromium (Debian's, driven by playwright) and a website of its own origin, for tests that drive the API
from a real browser page."""

import shutil
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium reaches for Google's hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium():
    """playwright's sync API, or the calling test module skipped, saying what is missing."""
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (`make test` installs it)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Chromium is not installed: `make test` installs Debian's chromium where apt-get works",
            allow_module_level=True,
        )
    return playwright


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def website(root: Path, host: str = "127.0.0.1"):
    """`root`'s files served on a free port of `host`: yields the site's origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def headless_chromium(playwright):
    """Debian's Chromium, launched headless by `playwright` (what `require_chromium` returned), closed after use."""
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
