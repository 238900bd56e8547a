"""Chat load against a running stack, and what must hold afterwards: every accepted message answered exactly
once and in order per session, every write that was answered 2xx in the read models, and the read models equal to
a rebuild from the event store. Shared by the fault and scale-out tests, which run the stack as real processes."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import requests
from pymongo import MongoClient

from command_api.write_model.application import OcsApplication
from projectors.rebuild import rebuild
from schemas.read_models import COLLECTIONS
from tests.stack import eventually


def ocs_admin(data_dir: Path, *args: str, env: dict | None = None) -> dict:
    """`env`: the servers' addresses, when they are not the ones an `ocs up` in this data dir started."""
    done = subprocess.run(
        [sys.executable, "-m", "infra.wiring.cli", "admin", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def processes_of(data_dir: Path, marker: str) -> dict[int, int]:
    """The processes whose command line holds the data dir and the marker, each with its parent's pid."""
    ps = subprocess.run(["ps", "-eww", "-o", "pid,ppid,args"], capture_output=True, text=True).stdout
    found = {}
    for line in ps.splitlines():
        if str(data_dir) in line and marker in line and "ps -eww" not in line:
            pid, parent = line.split()[:2]
            found[int(pid)] = int(parent)
    return found


def pid_of(data_dir: Path, marker: str) -> int | None:
    """A process of the part (a replica's): gunicorn's workers carry the API process's command line too."""
    return next(iter(parts(processes_of(data_dir, marker))), None)


def parts(processes: dict[int, int]) -> set[int]:
    return {pid for pid, parent in processes.items() if parent not in processes}


def kill_and_await_restart(data_dir: Path, marker: str) -> bool:
    """kill -9 of the part (of one replica); true once `ocs up` has started it again and no process of the killed one
    is left (the workers of a killed API process answer their last requests before the restarted one can take the
    port)."""
    before = processes_of(data_dir, marker)
    killed = pid_of(data_dir, marker)
    gone = {killed} | {pid for pid, parent in before.items() if parent == killed}
    os.kill(killed, signal.SIGKILL)

    def restarted() -> bool:
        now = processes_of(data_dir, marker)
        return not now.keys() & gone and len(parts(now)) == len(parts(before))

    return eventually(restarted, timeout_s=30)


class Load:
    """Widget users chatting and an API client creating and tagging sessions, counting what was accepted.
    `patient`: each user waits for the reply (polling its task, as the widget does) before sending the next message,
    so a wait for a reply measures the system, not a queue the load built up."""

    def __init__(self, base_url: str, key: str, chatbot_id: str, users: int, patient: bool = False):
        self.base_url, self.key, self.chatbot_id, self.users = base_url, key, chatbot_id, users
        self.patient = patient
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.accepted_messages: list[tuple[str, str]] = []  # (session id, task id)
        # Patient users: from sending a message to the poll that saw its reply (the projection's delays included).
        self.seen_after_s: list[float] = []
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
            sending = time.monotonic()
            sent = self.call(
                "POST",
                f"/api/chat/{session_id}/message/",
                json={"message": f"{session_id} #{n}"},
                headers={"X-Session-Token": token},
            )
            if sent is not None and sent.status_code == 202:
                task = sent.json()["task_id"]
                with self.lock:
                    self.accepted_messages.append((session_id, task))
                if self.patient and self.await_reply(session_id, task, token):
                    with self.lock:
                        self.seen_after_s.append(time.monotonic() - sending)
            elif sent is not None:
                with self.lock:
                    self.refused[sent.status_code] += 1
            time.sleep(0.05)

    def await_reply(self, session_id: str, task: str, token: str) -> bool:
        """Whether the task's end was seen."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not self.stop.is_set():
            polled = self.call("GET", f"/api/chat/{session_id}/{task}/poll/", headers={"X-Session-Token": token})
            if polled is not None and (polled.status_code != 200 or polled.json()["status"] != "processing"):
                return True
            time.sleep(0.1)
        return False

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


def read_models(db) -> dict:
    return {name: sorted(db[name].find(), key=lambda doc: doc["_id"]) for name in COLLECTIONS}


def answers(url: str, headers: dict) -> bool:
    try:
        return requests.get(url, headers=headers, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def first_differences(actual: dict, expected: dict, most: int = 3) -> dict:
    """Up to `most` documents per collection that differ, as (live, rebuilt), to tell a failure's cause."""
    found = {}
    for name in expected:
        live = {doc["_id"]: doc for doc in actual[name]}
        rebuilt = {doc["_id"]: doc for doc in expected[name]}
        pairs = [(live.get(i), rebuilt.get(i)) for i in {*live, *rebuilt} if live.get(i) != rebuilt.get(i)]
        if pairs:
            found[name] = pairs[:most]
    return found


def replies_in_order(app: OcsApplication, accepted: set[str]) -> dict:
    """How the accepted messages were answered, from the event store: how many answers each got, whether each
    session's replies came in the order of its messages, and how long the longest wait for a reply was."""
    submitted: dict[str, list[str]] = {}
    answered: dict[str, list[str]] = {}
    answers = Counter()
    failed = 0
    sent_at, waits = {}, []
    for envelope in app.all_envelopes():
        task, session = envelope["data"].get("task_id"), envelope["aggregate_id"]
        if task not in accepted:
            continue
        instant = datetime.fromisoformat(envelope["occurred_at"].replace("Z", "+00:00"))
        if envelope["type"] == "ChatSession.UserMessageSubmitted":
            submitted.setdefault(session, []).append(task)
            sent_at[task] = instant
        elif envelope["type"] in ("ChatSession.ReplyRecorded", "ChatSession.ReplyFailed"):
            answers[task] += 1
            failed += envelope["type"] == "ChatSession.ReplyFailed"
            answered.setdefault(session, []).append(task)
            waits.append((instant - sent_at[task]).total_seconds())
    return {
        "answered": len(answers),
        "duplicated": sum(count - 1 for count in answers.values()),
        "failed": failed,
        "out_of_order_sessions": sum(1 for session, tasks in submitted.items() if answered.get(session) != tasks),
        "longest_wait_s": round(max(waits, default=0.0), 2),
        "median_wait_s": round(sorted(waits)[len(waits) // 2], 2) if waits else 0.0,
    }


def verify(data_dir: Path, base_url: str, key: str, load: Load, mongo_url: str) -> dict:
    app = OcsApplication(f"sqlite:///{data_dir / 'events.sqlite'}", data_dir / "files")
    try:
        accepted = {task for _, task in load.accepted_messages}
        assert eventually(lambda: replies_in_order(app, accepted)["answered"] == len(accepted), timeout_s=120), (
            "some accepted messages got no reply"
        )
        replies = replies_in_order(app, accepted)
        client = MongoClient(mongo_url, tz_aware=True)
        live, fresh = client["ocs"], client["ocs_verify"]
        # The rebuild is made again until the live models equal it: a message whose POST the load never saw
        # answered (the API was killed mid-request) may still be accepted, and its reply comes after any snapshot.
        rebuilt = {}

        def live_equals_a_rebuild() -> bool:
            rebuilt["events"] = rebuild(fresh, app.all_envelopes())
            rebuilt["models"] = read_models(fresh)
            return read_models(live) == rebuilt["models"]

        if not eventually(live_equals_a_rebuild, timeout_s=120, interval_s=1.0):
            actual, expected = read_models(live), rebuilt["models"]
            differing = {
                name: (len(actual[name]), len(expected[name])) for name in expected if actual[name] != expected[name]
            }
            raise AssertionError(
                f"read models differ from a rebuild: (live, rebuilt) documents {differing}; "
                f"first differences: {first_differences(actual, expected)}"
            )
        client.close()

        headers = {"X-api-key": key}
        # An API process killed last may still be starting (gunicorn binds once the killed one's workers let go).
        assert eventually(lambda: answers(f"{base_url}/api/sessions/", headers), timeout_s=30), "the API is down"
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
            "messages_answered": replies["answered"],
            "replies_failed": replies["failed"],
            "lost": len(accepted) - replies["answered"] + len(missing) + len(untagged),
            "duplicated": replies["duplicated"],
            "out_of_order_sessions": replies["out_of_order_sessions"],
            "longest_wait_for_a_reply_s": replies["longest_wait_s"],
            "median_wait_for_a_reply_s": replies["median_wait_s"],
            # What a patient user waited, as it saw it: the above, and the read models' delay.
            "longest_wait_seen_by_a_user_s": round(max(load.seen_after_s, default=0.0), 2),
            "sessions_created": len(load.created_sessions),
            "sessions_tagged": len(load.tagged),
            "events_replayed": rebuilt["events"],
            "refused_while_down": dict(load.refused),
        }
        print("load report:", json.dumps(report))
        assert report["lost"] == 0 and report["duplicated"] == 0 and report["out_of_order_sessions"] == 0, report
        return report
    finally:
        app.close()
