"""The README's way in: `ocs up` runs the stack, `ocs admin` sets it up, the API answers, Ctrl-C stops all."""

import json
import signal
import subprocess
import sys
import time

import pytest
import requests

from infra.wiring.local_servers import free_port, terminate
from tests.stack import ChatClient, eventually


def ocs(*args: str, data_dir) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "infra.wiring.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def admin(*args: str, data_dir) -> dict:
    done = ocs("admin", *args, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def running_stack(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.wiring.cli", "up", "--data-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if line.startswith("ready:"):
            break
        if process.poll() is not None:
            pytest.fail("ocs up exited:\n" + "".join(lines))
    yield f"http://127.0.0.1:{port}", tmp_path, process
    terminate(process, 60)


def processes_using(data_dir) -> list[str]:
    ps = subprocess.run(["ps", "-eww", "-o", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if str(data_dir) in line and "ps -eww" not in line]


def test_ocs_up_serves_the_readme_flow_and_stops_everything(running_stack):
    base_url, data_dir, process = running_stack
    assert requests.get(f"{base_url}/healthz").json()["status"] == "ok"

    assert admin("create-team", "--slug", "acme", "--name", "Acme Inc", data_dir=data_dir) == {
        "slug": "acme",
        "name": "Acme Inc",
    }
    key = admin("create-api-key", "--team", "acme", "--write", data_dir=data_dir)
    assert key["read_only"] is False and len(key["key"].split(".")) == 2
    assert admin("create-api-key", "--team", "acme", data_dir=data_dir)["read_only"] is True
    chatbot = admin(
        "create-chatbot",
        "--team",
        "acme",
        "--name",
        "Support Bot",
        "--prompt",
        "Help with {session_state.page_context.product_name}",
        data_dir=data_dir,
    )
    assert chatbot["name"] == "Support Bot" and chatbot["version_number"] == 1
    assert admin("publish-version", "--chatbot", chatbot["id"], "--make-default", data_dir=data_dir) == {
        "version_number": 1,
        "is_default_version": True,
    }
    widget = admin(
        "create-widget",
        "--chatbot",
        chatbot["id"],
        "--allowed-domain",
        "example.com",
        "--auth-level",
        "embed_key",
        data_dir=data_dir,
    )
    assert set(widget) == {"embed_key", "channel_id"}
    # The chat page the README sends a newcomer to is on under `ocs up`, and announced.
    page = requests.get(f"{base_url}/demo/{chatbot['id']}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert (
        process.stdout.readline()
        == f"chat page: {base_url}/demo/<chatbot id> (a chatbot made by `ocs admin create-chatbot`)\n"
    )

    headers = {"X-api-key": key["key"]}
    session = requests.post(
        f"{base_url}/api/sessions/",
        headers=headers,
        json={
            "experiment": chatbot["id"],
            "participant": "jane@example.com",
            "page_context": {"product_name": "Widget X"},
        },
    )
    assert session.status_code == 201
    fetched = requests.get(f"{base_url}/api/sessions/{session.json()['id']}/", headers=headers).json()
    assert fetched["state"] == {"page_context": {"product_name": "Widget X"}}
    assert requests.get(f"{base_url}/api/experiments/", headers=headers).json()["results"][0]["version_number"] == 2

    # Every process's metrics, the relay's included, are served by the API.
    assert "ocs_events_published_total" in requests.get(f"{base_url}/metrics").text

    assert admin("rebuild-read-models", data_dir=data_dir)["events_replayed"] >= 8
    assert requests.get(f"{base_url}/api/sessions/{session.json()['id']}/", headers=headers).json() == fetched

    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0
    time.sleep(0.5)
    assert processes_using(data_dir) == []


def test_admin_errors_are_one_line_on_stderr(tmp_path):
    done = ocs("admin", "create-api-key", "--team", "nope", data_dir=tmp_path)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip().count("\n") == 0 and "nope" in done.stderr


def test_killing_ocs_up_leaves_no_process_behind(running_stack):
    _, data_dir, process = running_stack
    assert len(processes_using(data_dir)) >= 6  # ocs up, two servers, relay, projector, worker, api
    process.kill()
    process.wait()
    # Each child is told to stop when its parent dies and finishes its in-flight work first.
    gone = eventually(lambda: processes_using(data_dir) == [], timeout_s=60)
    assert gone, processes_using(data_dir)


def test_ocs_up_serves_with_gunicorn_workers_and_refuses_a_request_line_in_json(running_stack):
    base_url, data_dir, _ = running_stack
    api = [line for line in processes_using(data_dir) if "run api" in line]
    assert len(api) == 1 + 1  # the arbiter and OCS_API_WORKERS' default of worker processes
    response = requests.get(f"{base_url}/api/sessions/", params={"cursor": "x" * 10_000})
    assert (response.status_code, response.json()) == (414, {"detail": "Request-URI Too Long"})
    assert response.headers["Content-Type"] == "application/json"
    assert requests.get(f"{base_url}/healthz").headers["Server"] == "gunicorn"


def test_more_chat_streams_than_a_worker_has_threads_leave_the_api_answering(running_stack):
    """Each open chat stream holds a server thread: the default threads must not run out at a few dozen pages (72:
    more than the 64 threads each of two workers had before one worker of 128 became the default)."""
    base_url, data_dir, _ = running_stack
    admin("create-team", "--slug", "acme", data_dir=data_dir)
    chatbot = admin("create-chatbot", "--team", "acme", "--name", "Bot", data_dir=data_dir)["id"]
    admin("publish-version", "--chatbot", chatbot, "--make-default", data_dir=data_dir)
    pages = 72
    streams = []
    for _ in range(pages):
        chat = ChatClient(base_url)
        chat.start(chatbot)
        streams.append((chat, chat.get(f"/api/chat/{chat.session_id}/stream/", stream=True, timeout=30)))
    assert all(stream.status_code == 200 for _, stream in streams)
    chat, stream = streams[-1]
    chat.say("still here?")
    data = (json.loads(line[5:]) for line in stream.iter_lines() if line.startswith(b"data:"))
    assert next(event["content"] for event in data if event.get("role") == "assistant") == "still here?"
    for chat, stream in streams:
        stream.close()
        chat.close()
