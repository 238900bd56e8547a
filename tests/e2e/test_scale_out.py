"""Scale-out: three workers and two projectors share their consumer groups under chat load. One of each is killed
with kill -9 and not restarted, and a fourth worker joins. Every accepted message is answered exactly once and in
order per session, the read models equal a rebuild, `/healthz` reports the dead replicas and then, once their
partitions have moved to the live ones, no problem; the longest wait for a reply is reported. The processes are
the real `ocs run` ones, each replica under its own instance id, on the local servers. Users wait for each reply
before sending the next message, so the longest wait is the stall a kill causes. The default run is short;
`-m slow` runs longer under more load."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from infra.wiring.local_servers import LocalKafka, LocalMongo, free_port
from tests.chat_load import Load, ocs_admin, verify
from tests.fake_llm import FakeLlm
from tests.stack import eventually


class Replicas:
    """The stack's processes, each started by hand so that a killed one stays dead."""

    def __init__(self, data_dir, env: dict, port: int):
        self.data_dir, self.env, self.port = data_dir, env, port
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        process = name.split("-")[0]
        log = open(self.data_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "infra.wiring.cli", "run", process, "--data-dir", str(self.data_dir)]
            + ["--port", str(self.port)],
            env={**os.environ, **self.env, "OCS_INSTANCE_ID": name},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes.pop(name).wait()

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def scaled_stack(tmp_path):
    kafka = LocalKafka(tmp_path / "kafka").start()
    mongo = LocalMongo(tmp_path / "mongodb").start()
    llm = FakeLlm(delay_s=0.2).start()
    env = {"OCS_KAFKA_BOOTSTRAP": kafka.bootstrap, "OCS_MONGO_URL": mongo.url}
    port = free_port()
    replicas = Replicas(tmp_path, env, port)
    try:
        for name in ("relay", "api", "delivery", "projector-1", "projector-2", "worker-1", "worker-2", "worker-3"):
            replicas.start(name)
        base_url = f"http://127.0.0.1:{port}"
        assert eventually(lambda: healthz(base_url).get("status") == "ok", timeout_s=120), healthz(base_url)
        ocs_admin(tmp_path, "create-team", "--slug", "scale", env=env)
        key = ocs_admin(tmp_path, "create-api-key", "--team", "scale", "--write", env=env)["key"]
        chatbot = ocs_admin(
            tmp_path,
            *("create-chatbot", "--team", "scale", "--name", "Scale", "--provider", "openai"),
            *("--base-url", llm.base_url, "--api-key", "k", "--model", "m"),
            env=env,
        )["id"]
        yield replicas, base_url, key, chatbot, mongo.url
    finally:
        replicas.stop()
        llm.stop()
        mongo.stop()
        kafka.stop()


def healthz(base_url: str) -> dict:
    try:
        return requests.get(f"{base_url}/healthz", timeout=5).json()
    except (requests.RequestException, ValueError):
        return {}


def run_scale_out(scaled_stack, users: int, before_s: float, after_s: float) -> dict:
    replicas, base_url, key, chatbot, mongo_url = scaled_stack
    load = Load(base_url, key, chatbot, users, patient=True).start()
    time.sleep(before_s)
    replicas.kill("worker-1")
    replicas.kill("projector-1")
    killed_at = time.monotonic()
    reported = eventually(
        lambda: (
            {"worker@worker-1", "projector@projector-1"}
            <= {name for name, status in healthz(base_url).get("replicas", {}).items() if status == "down"}
        ),
        timeout_s=30,
    )
    assert reported, healthz(base_url)
    replicas.start("worker-4")
    # The dead replicas are removed from their groups and their partitions move to the live ones: nothing is
    # left held by a replica that is gone.
    healed = eventually(lambda: not healthz(base_url).get("problems"), timeout_s=90, interval_s=0.5)
    assert healed, healthz(base_url)
    time.sleep(max(0.0, after_s - (time.monotonic() - killed_at)))
    load.finish()
    report = verify(replicas.data_dir, base_url, key, load, mongo_url)
    held = healthz(base_url)
    assert held["replicas"]["worker@worker-4"] == "ok" and held["problems"] == [], held
    print("scale-out report:", json.dumps(report))
    return report


def test_replicas_killed_for_good_hand_their_partitions_on_and_a_new_one_joins(scaled_stack):
    report = run_scale_out(scaled_stack, users=8, before_s=4.0, after_s=20.0)
    assert report["messages_accepted"] > 0 and report["replies_failed"] == 0


@pytest.mark.slow
def test_scale_out_under_heavier_load(scaled_stack):
    report = run_scale_out(scaled_stack, users=24, before_s=15.0, after_s=60.0)
    assert report["messages_accepted"] > 300 and report["replies_failed"] == 0
