"""Fixtures the end-to-end tests share beyond tests/conftest.py: a stack whose parts can be killed, and a fake LLM that
streams slowly enough to be caught mid-reply."""

import subprocess
import sys
import threading

import pytest

from infra.wiring.local_servers import free_port, terminate
from tests.chat_load import ocs_admin
from tests.fake_llm import FakeLlm


@pytest.fixture(params=[()], ids=["one replica each"])
def faulty_stack(request, tmp_path, fake_llm):
    """`ocs up` in a subprocess (so its parts can be killed), with a chatbot answering through the fake LLM; the
    param: `ocs up`'s replica options."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.wiring.cli", "up", "--data-dir", str(tmp_path), "--port", str(port)]
        + list(request.param),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        started = []
        while not (line := process.stdout.readline()).startswith("ready:"):
            started.append(line)
            assert line, "ocs up did not start:\n" + "".join(started)
    except BaseException:
        process.kill()
        process.wait()
        raise
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    ocs_admin(tmp_path, "create-team", "--slug", "soak")
    key = ocs_admin(tmp_path, "create-api-key", "--team", "soak", "--write")["key"]
    chatbot = ocs_admin(
        tmp_path,
        "create-chatbot",
        "--team",
        "soak",
        "--name",
        "Soak",
        "--provider",
        "openai",
        "--base-url",
        fake_llm.base_url,
        "--api-key",
        "k",
        "--model",
        "m",
    )["id"]
    yield tmp_path, f"http://127.0.0.1:{port}", key, chatbot
    terminate(process, 60)


@pytest.fixture
def slow_llm():
    """A fake whose streamed replies wait before their last word until `release_last_token()`."""
    fake = FakeLlm().start()
    fake.hold_last_token = True
    yield fake
    fake.release_last_token()
    fake.stop()
