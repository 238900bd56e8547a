"""Crash each part of a running stack with kill -9 while chat messages and session commands flow, let
`ocs up` restart it, and check the promises: every command answered 2xx is in the read models, every
accepted chat message has exactly one reply, and the read models equal a fresh rebuild from the event
store. The default run kills each part once under a small load; `-m slow` runs a longer, heavier soak."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from command_api.write_model.application import OcsApplication
from infra.wiring.local_servers import free_port
from projectors.rebuild import rebuild
from schemas.read_models import COLLECTIONS
from tests.stack import eventually

# What kill -9 hits, found by its command line (each contains the data dir).
PARTS = {
    "kafka": "--only kafka",
    "mongodb": "secantusd-py",
    "projector": "run projector",
    "worker": "run worker",
    "relay": "run relay",
    "api": "run api",
}


def ocs_admin(data_dir: Path, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "infra.wiring.cli", "admin", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def pid_of(data_dir: Path, marker: str) -> int | None:
    ps = subprocess.run(["ps", "-eww", "-o", "pid,args"], capture_output=True, text=True).stdout
    for line in ps.splitlines():
        if str(data_dir) in line and marker in line and "ps -eww" not in line:
            return int(line.split()[0])
    return None


class Load:
    """Widget users chatting and an API client creating and tagging sessions, counting what was accepted."""

    def __init__(self, base_url: str, key: str, chatbot_id: str, users: int):
        self.base_url, self.key, self.chatbot_id, self.users = base_url, key, chatbot_id, users
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.accepted_messages: list[tuple[str, str]] = []  # (session id, task id)
        self.created_sessions: list[str] = []
        self.tagged: list[tuple[str, str]] = []
        self.refused = Counter()
        self.threads = [threading.Thread(target=self.chat, daemon=True) for _ in range(users)]
        self.threads.append(threading.Thread(target=self.commands, daemon=True))

    def start(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def call(self, method: str, path: str, **kwargs):
        try:
            return requests.request(method, self.base_url + path, timeout=30, **kwargs)
        except requests.RequestException as exc:  # the API process is down: nothing was promised
            with self.lock:
                self.refused[type(exc).__name__] += 1
            time.sleep(0.2)
            return None

    def chat(self) -> None:
        token, session_id, n = None, None, 0
        while not self.stop.is_set():
            if session_id is None:
                started = self.call("POST", "/api/chat/start/", json={"chatbot_id": self.chatbot_id})
                if started is not None and started.status_code == 201:
                    session_id, token = started.json()["session_id"], started.json()["session_token"]
                continue
            n += 1
            sent = self.call(
                "POST",
                f"/api/chat/{session_id}/message/",
                json={"message": f"{session_id} #{n}"},
                headers={"X-Session-Token": token},
            )
            if sent is not None and sent.status_code == 202:
                with self.lock:
                    self.accepted_messages.append((session_id, sent.json()["task_id"]))
            elif sent is not None:
                with self.lock:
                    self.refused[sent.status_code] += 1
            time.sleep(0.05)

    def commands(self) -> None:
        headers = {"X-api-key": self.key}
        while not self.stop.is_set():
            created = self.call("POST", "/api/sessions/", json={"experiment": self.chatbot_id}, headers=headers)
            if created is None or created.status_code != 201:
                continue
            session_id = created.json()["id"]
            with self.lock:
                self.created_sessions.append(session_id)
            tagged = self.call("POST", f"/api/sessions/{session_id}/tags/", json={"tags": ["soak"]}, headers=headers)
            if tagged is not None and tagged.status_code == 200:
                with self.lock:
                    self.tagged.append((session_id, "soak"))
            time.sleep(0.1)


@pytest.fixture
def faulty_stack(tmp_path, fake_llm):
    """`ocs up` in a subprocess (so its parts can be killed), with a chatbot answering through the fake LLM."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.wiring.cli", "up", "--data-dir", str(tmp_path), "--port", str(port)],
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
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def read_models(db) -> dict:
    return {name: sorted(db[name].find(), key=lambda doc: doc["_id"]) for name in COLLECTIONS}


def run_faults(faulty_stack, rounds: int, users: int, pause_s: float) -> dict:
    data_dir, base_url, key, chatbot = faulty_stack
    load = Load(base_url, key, chatbot, users).start()
    time.sleep(pause_s)
    for _ in range(rounds):
        for part, marker in PARTS.items():
            pid = pid_of(data_dir, marker)
            assert pid, f"{part} is not running"
            os.kill(pid, signal.SIGKILL)
            # ocs up notices within a second and starts it again; give the system time to heal under load.
            assert eventually(lambda m=marker, old=pid: pid_of(data_dir, m) not in (None, old), timeout_s=30)
            time.sleep(pause_s)
    load.finish()
    return verify(data_dir, base_url, key, load)


def verify(data_dir: Path, base_url: str, key: str, load: Load) -> dict:
    app = OcsApplication(f"sqlite:///{data_dir / 'events.sqlite'}", data_dir / "files")
    try:

        def outcomes() -> Counter:
            answered = Counter()
            for envelope in app.all_envelopes():
                if envelope["type"] in ("ChatSession.ReplyRecorded", "ChatSession.ReplyFailed"):
                    answered[envelope["data"]["task_id"]] += 1
            return answered

        accepted = {task for _, task in load.accepted_messages}
        assert eventually(lambda: accepted <= set(outcomes()), timeout_s=120), "some accepted messages got no reply"
        answers = outcomes()
        duplicated = sum(count - 1 for task, count in answers.items() if task in accepted and count > 1)
        failed = sum(
            1
            for e in app.all_envelopes()
            if e["type"] == "ChatSession.ReplyFailed" and e["data"]["task_id"] in accepted
        )

        stack = json.loads((data_dir / "stack.json").read_text())
        from pymongo import MongoClient

        client = MongoClient(stack["mongo_url"], tz_aware=True)
        live, fresh = client["ocs"], client["ocs_verify"]
        rebuilt = rebuild(fresh, app.all_envelopes())
        expected = read_models(fresh)
        assert eventually(lambda: read_models(live) == expected, timeout_s=120), "read models differ from a rebuild"
        client.close()

        headers = {"X-api-key": key}
        missing = [
            s
            for s in load.created_sessions
            if requests.get(f"{base_url}/api/sessions/{s}/", headers=headers).status_code != 200
        ]
        untagged = [
            s
            for s, tag in load.tagged
            if tag not in requests.get(f"{base_url}/api/sessions/{s}/", headers=headers).json()["tags"]
        ]
        report = {
            "messages_accepted": len(accepted),
            "messages_answered": len(accepted & set(answers)),
            "replies_failed": failed,
            "lost": len(accepted - set(answers)) + len(missing) + len(untagged),
            "duplicated": duplicated,
            "sessions_created": len(load.created_sessions),
            "sessions_tagged": len(load.tagged),
            "events_replayed": rebuilt,
            "refused_while_down": dict(load.refused),
        }
        print("fault report:", json.dumps(report))
        assert report["lost"] == 0 and report["duplicated"] == 0, report
        return report
    finally:
        app.close()


def test_killing_each_part_once_loses_and_doubles_nothing(faulty_stack):
    report = run_faults(faulty_stack, rounds=1, users=4, pause_s=2.0)
    assert report["messages_accepted"] > 0 and report["sessions_created"] > 0


@pytest.mark.slow
def test_soak_killing_each_part_three_times_under_heavier_load(faulty_stack):
    report = run_faults(faulty_stack, rounds=3, users=12, pause_s=4.0)
    assert report["messages_accepted"] > 100
