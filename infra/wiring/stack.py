"""`ocs up`: the whole stack on the embedded default, in the foreground.

Starts the local Kafka-protocol and MongoDB-protocol servers, then each process of the system (relay,
projectors, workers, the webhook delivery worker, API on one port), restarts any that dies, and stops everything
on Ctrl-C or SIGTERM.

Projectors and workers run as many replicas as asked (`--projectors M`, `--workers N`), each a member of its
consumer group under an instance id of its own (`projector-2`, ...). A replica that dies is restarted under the
same id, so it takes its partitions straight back instead of the group waiting for a member that left.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from infra.config import STACK_FILE, switched_on
from infra.doorbells import remove_unanswered
from infra.metrics import MULTIPROCESS_DIR
from infra.wiring.local_servers import LocalKafka, LocalMongo, end_with_parent, terminate

# One delivery worker: replicas would share the webhook subscriptions (workers/delivery.py), and one keeps up here.
PROCESSES = ("relay", "projector", "worker", "delivery", "api")
# Processes that are consumer-group members, and so may run as several replicas.
REPLICATED = ("projector", "worker")
RESTART_DELAY_S = 1.0
# What `ocs up` turns on unless the environment says otherwise: the chat page, for a newcomer's first chat.
UP_DEFAULTS = {"OCS_DEMO_PAGE": "true"}


class Stopping(Exception):
    pass


def replica_names(replicas: dict[str, int]) -> list[str]:
    """Each process to run, by the name of its log and instance id: `relay`, `projector-1`, `projector-2`, ..."""
    names = []
    for process in PROCESSES:
        count = replicas.get(process, 1) if process in REPLICATED else 1
        names += [f"{process}-{i}" for i in range(1, count + 1)] if process in REPLICATED else [process]
    return names


def run_stack(data_dir: str, host: str, port: int, replicas: dict[str, int] | None = None) -> int:
    root = Path(data_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    logs = root / "logs"
    logs.mkdir(exist_ok=True)

    def stop_requested(*_):
        raise Stopping

    signal.signal(signal.SIGTERM, stop_requested)
    signal.signal(signal.SIGINT, stop_requested)
    # A server named by the environment is used as it is; only the others are started here.
    kafka = mongo = None
    if not os.environ.get("OCS_KAFKA_BOOTSTRAP"):
        kafka = LocalKafka(root / "kafka", log_file=open(logs / "kafka.log", "ab"))
    if not os.environ.get("OCS_MONGO_URL"):
        mongo = LocalMongo(root / "mongodb", log_file=open(logs / "mongodb.log", "ab"))
    children: dict[str, subprocess.Popen] = {}
    try:
        local = {}
        if kafka:
            local["kafka_bootstrap"] = kafka.start().bootstrap
        if mongo:
            local["mongo_url"] = mongo.start().url
        (root / STACK_FILE).write_text(json.dumps(local))
        # Every process of this run writes its metrics here, for the API's /metrics to show them all.
        shutil.rmtree(root / "metrics", ignore_errors=True)
        (root / "metrics").mkdir()
        for name in replica_names(replicas or {}):
            children[name] = start_process(name, root, host, port)
        base_url = f"http://{host}:{port}/"
        print(f"Open Chat Studio API at {base_url} (data in {root}, logs in {logs})", flush=True)
        servers = {name: server for name, server in (("kafka", kafka), ("mongodb", mongo)) if server}

        def restart_exited() -> None:
            for name, server in servers.items():
                if server.process.poll() is not None:
                    print(f"{name} exited with {server.process.returncode}; restarting", file=sys.stderr, flush=True)
                    server.start()  # same port and data: its clients reconnect
            for name, child in list(children.items()):
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; restarting", file=sys.stderr, flush=True)
                    time.sleep(RESTART_DELAY_S)
                    children[name] = start_process(name, root, host, port)

        # A process that dies while the stack starts is restarted (and reported) at once, as later on.
        wait_until_healthy(base_url, restart_exited)
        print(f"ready: {base_url}healthz reports every component up. Ctrl-C stops.", flush=True)
        if switched_on(environment()["OCS_DEMO_PAGE"]):
            print(f"chat page: {base_url}demo/<chatbot id> (a chatbot made by `ocs admin create-chatbot`)", flush=True)
        while True:
            time.sleep(0.5)
            restart_exited()
    except Stopping:
        print("stopping", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children.values():
            terminate(child)
        remove_unanswered(root)
        (root / STACK_FILE).unlink(missing_ok=True)
        for server in (mongo, kafka):
            if server:
                server.stop()


def start_process(name: str, root: Path, host: str, port: int) -> subprocess.Popen:
    process = name.rsplit("-", 1)[0] if name.rsplit("-", 1)[0] in REPLICATED else name
    instance = {"OCS_INSTANCE_ID": name} if process in REPLICATED else {}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.wiring.cli",
            "run",
            process,
            "--data-dir",
            str(root),
            "--host",
            host,
            "--port",
            str(port),
        ],
        env={**environment(), MULTIPROCESS_DIR: str(root / "metrics"), **instance},
        stdout=open(root / "logs" / f"{name}.log", "ab"),
        stderr=subprocess.STDOUT,
        preexec_fn=end_with_parent,
    )


def environment() -> dict[str, str]:
    """The stack's processes' environment: this one's, over `ocs up`'s defaults."""
    return {**UP_DEFAULTS, **os.environ}


def wait_until_healthy(base_url: str, meanwhile, timeout_s: float = 120) -> None:
    """Poll /healthz until it reports every component up, calling `meanwhile` between polls."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        meanwhile()
        try:
            with urllib.request.urlopen(f"{base_url}healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the stack did not become healthy within {timeout_s}s; see the logs")
