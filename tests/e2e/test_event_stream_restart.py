"""The team's event stream resumes across a kill -9 of the API process (issue 21): while events keep coming, a
client that reconnects with the id of the last event it received gets every later event, with no gap and no
repeat, from the restarted process."""

import threading
import time

import requests

from tests.chat_load import kill_and_await_restart
from tests.e2e.test_event_feed import stream_events
from tests.stack import eventually


def all_events(base_url: str, key: str) -> list[dict]:
    events, after = [], None
    while True:
        page = requests.get(
            f"{base_url}/api/events/",
            headers={"X-api-key": key},
            params={"limit": 1000, **({"after": after} if after else {})},
        ).json()
        events += page["events"]
        if not page["events"]:
            return events
        after = page["next"]


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code > 0
    except requests.RequestException:
        return False


def test_the_event_stream_resumes_across_a_restart_of_the_api_process(faulty_stack):
    data_dir, base_url, key, chatbot = faulty_stack
    stop = threading.Event()

    def keep_writing():
        while not stop.is_set():
            try:
                requests.post(
                    f"{base_url}/api/sessions/", headers={"X-api-key": key}, json={"experiment": chatbot}, timeout=10
                )
            except requests.RequestException:
                time.sleep(0.1)  # the API is restarting

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    try:
        received = stream_events(base_url, key, 10)
        assert kill_and_await_restart(data_dir, "run api")
        assert eventually(lambda: answers(f"{base_url}/healthz"), timeout_s=30)
        time.sleep(1)  # events keep coming while the client is away
    finally:
        stop.set()
        writer.join(15)
    everything = eventually(lambda: all_events(base_url, key), timeout_s=10)
    assert everything and len(everything) > len(received)
    rest = stream_events(base_url, key, len(everything) - len(received), last_event_id=received[-1]["id"])
    assert [event["data"] for event in received + rest] == everything
